"""faster-core's variants: the app factory on its defaults, and each core middleware alone.

Every factory is a module-level function returning an app with `GET /bench`, so that server
mode can run it as `uvicorn benchmarks.core:<factory> --factory`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from benchmarks.harness import (
    BENCH_BODY,
    BENCH_PATH,
    Target,
    Variant,
    add_bench_route,
    fastapi_bare,
)
from faster_core import create_app
from faster_core.middleware import (
    BodyLimitMiddleware,
    CORSMiddleware,
    GZipMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    ServerErrorMiddleware,
    TrustedHostMiddleware,
)
from faster_core.settings import MIB, Environment, FasterSettings

__all__ = ["variants"]

ORIGIN = "https://app.example"
ORIGIN_HEADER = ((b"origin", ORIGIN.encode()),)


def _settings(**overrides: Any) -> FasterSettings:
    """Settings from these values only: no `.env` file (`FASTER_*` variables still apply)."""
    return FasterSettings(_env_file=None, env=Environment.TEST, **overrides)


# -- the app factory ----------------------------------------------------------------------------


def core_all_plugins_disabled() -> FastAPI:
    disabled = ["http", "health", "introspection"]
    return add_bench_route(create_app(_settings(disabled_plugins=disabled), load_entrypoints=False))


def core_default() -> FastAPI:
    return add_bench_route(create_app(_settings(), load_entrypoints=False))


def core_with_cors() -> FastAPI:
    return add_bench_route(create_app(_settings(cors_origins=[ORIGIN]), load_entrypoints=False))


# -- each middleware alone around the bare app ---------------------------------------------------


class NoopMiddleware:
    """A pure ASGI middleware that does nothing: the cost of one layer, and the noise floor."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _bare_with(cls: Callable[..., ASGIApp], **options: Any) -> FastAPI:
    app = fastapi_bare()
    app.add_middleware(cls, **options)
    return app


def mw_noop() -> FastAPI:
    return _bare_with(NoopMiddleware)


def mw_server_error() -> FastAPI:
    return _bare_with(ServerErrorMiddleware)


def mw_request_id() -> FastAPI:
    return _bare_with(RequestIdMiddleware)


def mw_security_headers() -> FastAPI:
    return _bare_with(SecurityHeadersMiddleware, hsts_max_age=31_536_000)


def mw_body_limit() -> FastAPI:
    return _bare_with(BodyLimitMiddleware, max_body_size=MIB)


def mw_gzip() -> FastAPI:
    return _bare_with(GZipMiddleware, minimum_size=500)


def mw_cors() -> FastAPI:
    s = _settings(cors_origins=[ORIGIN])
    return _bare_with(
        CORSMiddleware,
        allow_origins=s.cors_origins,
        allow_credentials=s.cors_allow_credentials,
        allow_methods=s.cors_allow_methods,
        allow_headers=s.cors_allow_headers,
    )


def mw_trusted_hosts() -> FastAPI:
    return _bare_with(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])


async def _nothing() -> None:
    return None


async def _bench_with_dependency(_: None = Depends(_nothing)) -> dict[str, str]:
    return dict(BENCH_BODY)


def fastapi_depends_noop() -> FastAPI:
    """Bare FastAPI, the route with one `async def` dependency that does nothing: the floor under
    every dependency-based feature (`CurrentUser`, `Depends(rate_limit(...))`)."""
    app = FastAPI()
    app.add_api_route(BENCH_PATH, _bench_with_dependency, methods=["GET"])
    return app


def variants() -> list[Variant]:
    """The core's variants, each against `fastapi-bare` (which the harness always adds)."""
    core = [
        Variant(
            "fastapi-depends-noop",
            fastapi_depends_noop,
            "plain FastAPI(), the route with one no-op async dependency: FastAPI's own cost of one",
            None,
            server=False,
        ),
        Variant(
            "core-all-plugins-disabled",
            core_all_plugins_disabled,
            "create_app, only the essential errors plugin (500 boundary + problem handlers)",
            Target(min_ratio=0.98),
        ),
        Variant(
            "core-default",
            core_default,
            "create_app on defaults: request id, security headers, body limit, errors, gzip,"
            " health routes",
            Target(max_overhead_us=10.0, note="ratio ~0.95"),
            expect_headers=("x-request-id", "x-content-type-options"),
        ),
        Variant(
            "core-with-cors",
            core_with_cors,
            f"core-default + cors_origins=[{ORIGIN}], the request from that Origin",
            headers=ORIGIN_HEADER,
            expect_headers=("x-request-id", "access-control-allow-origin"),
        ),
    ]
    layers = [
        ("mw-noop", mw_noop, "a do-nothing pure ASGI layer (calibration)", (), ()),
        ("mw-server-error", mw_server_error, "faster_core ServerErrorMiddleware", (), ()),
        ("mw-request-id", mw_request_id, "RequestIdMiddleware", (), ("x-request-id",)),
        (
            "mw-security-headers",
            mw_security_headers,
            "SecurityHeadersMiddleware",
            (),
            ("x-frame-options",),
        ),
        ("mw-body-limit", mw_body_limit, "BodyLimitMiddleware", (), ()),
        ("mw-gzip", mw_gzip, "the core's GZipMiddleware, small body (passes through)", (), ()),
        (
            "mw-cors",
            mw_cors,
            "faster_core CORSMiddleware, allowed Origin",
            ORIGIN_HEADER,
            ("access-control-allow-origin",),
        ),
        ("mw-trusted-hosts", mw_trusted_hosts, "TrustedHostMiddleware, allowed Host", (), ()),
    ]
    return core + [
        Variant(
            name,
            factory,
            f"bare + {what} (informational)",
            None,
            headers=headers,
            expect_headers=expect,
            server=False,
        )
        for name, factory, what, headers, expect in layers
    ]
