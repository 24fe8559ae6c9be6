"""faster-auth's variants: the per-request cost of an authenticated route.

- `auth-current-user` against `auth-no-auth`: the same app (db + auth plugins, SQLite file) and
  `GET` route, with and without a `CurrentUser` dependency, every request carrying the same valid
  bearer token (steady state: its verified claims come from the verifier's cache).
- `auth-verify-every-request`: the same with the claims cache off, so every request pays a full
  EdDSA signature check with PyJWT.

The key is fixed (a constant Ed25519 seed) so that a uvicorn worker in `--server` mode, which
imports this module again, verifies the token minted here. It signs only benchmark tokens.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI

import faster_auth.plugin
import faster_db.plugin
from benchmarks.harness import BENCH_BODY, BENCH_PATH, Target, Variant
from faster_auth import AuthSettings, CurrentUser
from faster_auth.auth import Auth
from faster_core import create_app
from faster_core.settings import Environment, FasterSettings

__all__ = ["variants"]

_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
_TOKEN_TTL = 24 * 3600


def _token() -> str:
    settings = AuthSettings(_env_file=None, private_key=_PEM, access_token_ttl=_TOKEN_TTL)
    return Auth.from_settings(settings, Environment.TEST).issuer.issue("bench-user")


_HEADERS = ((b"authorization", b"Bearer " + _token().encode()),)


def _app(**auth: Any) -> FastAPI:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='faster-auth-bench-')) / 'b.db'}"
    settings = FasterSettings(
        _env_file=None,
        env=Environment.TEST,
        plugin_settings={
            "db": {"url": url, "auto_migrate": True},
            "auth": {"private_key": _PEM, **auth},
        },
    )
    return create_app(
        settings, plugins=[faster_db.plugin, faster_auth.plugin], load_entrypoints=False
    )


def auth_no_auth() -> FastAPI:
    app = _app()

    async def bench() -> dict[str, str]:
        return dict(BENCH_BODY)

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def _with_current_user(app: FastAPI) -> FastAPI:
    async def bench(user: CurrentUser) -> dict[str, str]:
        if user.subject != "bench-user":
            raise RuntimeError("the benchmark token was not verified")
        return dict(BENCH_BODY)

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def auth_current_user() -> FastAPI:
    return _with_current_user(_app())


def auth_verify_every_request() -> FastAPI:
    return _with_current_user(_app(token_cache_size=0))


def variants() -> list[Variant]:
    return [
        Variant(
            "auth-no-auth",
            auth_no_auth,
            "db + auth plugins; the route without authentication (the baseline)",
            None,
            baseline="auth-no-auth",
            headers=_HEADERS,
        ),
        Variant(
            "auth-current-user",
            auth_current_user,
            "db + auth plugins; CurrentUser with a valid token (claims cached until exp)",
            Target(max_overhead_us=10, note="steady state: verified claims cached"),
            baseline="auth-no-auth",
            headers=_HEADERS,
        ),
        Variant(
            "auth-verify-every-request",
            auth_verify_every_request,
            "db + auth plugins; CurrentUser with the claims cache off (PyJWT EdDSA each time)",
            None,
            baseline="auth-no-auth",
            headers=_HEADERS,
            server=False,
        ),
    ]
