"""faster-auth's variants: the per-request cost of an authenticated route.

- `auth-current-user` against `auth-no-auth`: the same app (db + auth plugins, SQLite file) and
  `GET` route, with and without a `CurrentUser` dependency, every request carrying the same valid
  bearer token (steady state: its verified claims come from the verifier's cache).
- `auth-verify-every-request`: the same with the claims cache off, so every request pays a full
  EdDSA signature check with PyJWT.
- `auth-current-user-redis` against `auth-no-auth-redis`: the same pair with the redis plugin on
  (`memory://`), so revocations are looked up in Redis (once a second per token and worker,
  from the local cache otherwise, kept coherent over pub/sub).

Every authenticated request runs the whole check: claims (cached until `exp`), the user's
standing and the token's revocation (each from a per-process cache of at most 1 s).

The key is fixed (a constant Ed25519 seed) so that a uvicorn worker in `--server` mode, which
imports this module again, verifies the token minted here. It signs only benchmark tokens.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


def _app(*, redis: bool = False, lifespan: Any = None, **auth: Any) -> FastAPI:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='faster-auth-bench-')) / 'b.db'}"
    plugin_settings: dict[str, Any] = {
        "db": {"url": url, "auto_migrate": True},
        "auth": {"private_key": _PEM, **auth},
    }
    plugins: list[object] = [faster_db.plugin, faster_auth.plugin]
    if redis:
        import faster_redis.plugin

        plugin_settings["redis"] = {"url": "memory://"}
        plugins.insert(1, faster_redis.plugin)
    settings = FasterSettings(_env_file=None, env=Environment.TEST, plugin_settings=plugin_settings)
    return create_app(settings, plugins=plugins, load_entrypoints=False, lifespan=lifespan)


def _without_auth(app: FastAPI) -> FastAPI:
    async def bench() -> dict[str, str]:
        return dict(BENCH_BODY)

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def auth_no_auth() -> FastAPI:
    return _without_auth(_app())


@asynccontextmanager
async def _frozen_clocks(app: FastAPI) -> AsyncIterator[None]:
    """Stop the per-process caches' clocks: under callgrind a second of wall time is a few dozen
    requests, so the once-a-second refresh of each cache would dominate the count, while at
    thousands of requests per second it costs almost nothing per request."""
    now, monotonic = time.time(), time.monotonic()
    guard = app.state.auth_guard
    guard.auth.verifier._clock = lambda: now
    guard.auth.users._clock = lambda: monotonic
    guard.revocations._clock = lambda: monotonic
    yield


def auth_current_user_steady() -> FastAPI:
    return _with_current_user(_app(lifespan=_frozen_clocks))


def auth_no_auth_redis() -> FastAPI:
    return _without_auth(_app(redis=True))


def auth_current_user_redis() -> FastAPI:
    return _with_current_user(_app(redis=True))


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
        Variant(
            "auth-current-user-steady",
            auth_current_user_steady,
            "auth-current-user with the caches' clocks stopped (for --instructions: no refresh)",
            Target(max_overhead_us=10, note="the per-request path alone"),
            baseline="auth-no-auth",
            headers=_HEADERS,
            server=False,
        ),
        Variant(
            "auth-no-auth-redis",
            auth_no_auth_redis,
            "db + redis (memory://) + auth plugins; the route without authentication",
            None,
            baseline="auth-no-auth-redis",
            headers=_HEADERS,
        ),
        Variant(
            "auth-current-user-redis",
            auth_current_user_redis,
            "db + redis + auth; CurrentUser, revocations in Redis behind the local cache",
            Target(max_overhead_us=10, note="steady state: every check from a local cache"),
            baseline="auth-no-auth-redis",
            headers=_HEADERS,
        ),
    ]
