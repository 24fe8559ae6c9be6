"""Headers added during a request reach whichever response it gets (faster_core/response_headers.py,
sent by the error layer, middleware/errors.py).

No `from __future__ import annotations`: the routes are declared in functions."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from httpx import AsyncClient
from starlette.types import ASGIApp, Receive, Scope, Send

from faster_core import (
    ConfigurationError,
    MiddlewareSpec,
    PluginInfo,
    add_response_headers,
    added_response_headers,
    hookimpl,
    request_dependency,
)
from faster_core.request_dependencies import _HoistedApp
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio

ADDED = (b"x-added", b"by the dependency")


@request_dependency
async def adds_a_header(request: Request) -> None:
    add_response_headers(request, [ADDED])


@request_dependency
async def replaces_it(request: Request) -> None:
    added = added_response_headers(request)
    added[:] = [(name, b"replaced" if name == ADDED[0] else value) for name, value in added]


async def unrelated() -> None:
    """Only overridden: any override makes FastAPI's own handler serve every route."""


async def _ok() -> dict[str, bool]:
    return {"ok": True}


async def _returned() -> JSONResponse:
    return JSONResponse({"ok": True}, headers={"x-own": "kept"})


async def _streamed() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"one,"
        yield b"two"

    return StreamingResponse(chunks(), media_type="text/plain")


async def _conflict() -> None:
    raise HTTPException(409, "taken")


async def _crash() -> None:
    raise RuntimeError("boom")


def _app(factory: AppFactory, *plugins: object) -> FastAPI:
    app = factory(*plugins)
    adding = [Depends(adds_a_header)]
    for path, endpoint in {
        "/plain": _ok,
        "/returned": _returned,
        "/streamed": _streamed,
        "/conflict": _conflict,
        "/crash": _crash,
    }.items():
        app.add_api_route(path, endpoint, dependencies=adding)
    app.add_api_route("/replaced", _ok, dependencies=[*adding, Depends(replaces_it)])
    app.add_api_route("/nothing", _ok)
    router = APIRouter(prefix="/inner")
    router.add_api_route("/plain", _ok, dependencies=adding)
    app.include_router(router, prefix="/v1")
    mounted = FastAPI()
    mounted.add_api_route("/plain", _ok, dependencies=adding)
    app.mount("/sub", mounted)
    return app


@asynccontextmanager
async def _served(app: FastAPI, handler: str) -> AsyncIterator[AsyncClient]:
    """A client of `app` whose routes `handler` serves (see the `handler` fixture)."""
    async with client_for(app) as client:
        if handler == "fastapi":
            app.dependency_overrides[unrelated] = unrelated
        yield client


def _route(app: FastAPI, path: str) -> APIRoute:
    return next(r for r in app.routes if isinstance(r, APIRoute) and r.path == path)


@pytest.fixture(params=["hoisted", "fastapi"])
def handler(request: pytest.FixtureRequest) -> str:
    """Which handler serves the routes: the core's, calling the request dependency first, or
    FastAPI's own (taken while any dependency override is set)."""
    return str(request.param)


async def test_headers_added_by_a_request_dependency_reach_the_response(
    faster_app_factory: AppFactory, handler: str
) -> None:
    app = _app(faster_app_factory)
    async with _served(app, handler) as client:
        plain = await client.get("/plain")
        returned = await client.get("/returned")
        streamed = await client.get("/streamed")
        replaced = await client.get("/replaced")

    assert isinstance(_route(app, "/plain").app, _HoistedApp)
    for response in (plain, returned, streamed):
        assert response.status_code == 200
        assert response.headers.get_list("x-added") == ["by the dependency"]
    assert returned.headers["x-own"] == "kept"
    assert streamed.text == "one,two"
    assert replaced.headers.get_list("x-added") == ["replaced"]


async def test_an_error_after_they_were_added_carries_them_but_not_the_last_resort_500(
    faster_app_factory: AppFactory, handler: str
) -> None:
    app = _app(faster_app_factory)
    async with _served(app, handler) as client:
        conflict = await client.get("/conflict")
        crash = await client.get("/crash")

    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    assert conflict.headers["x-added"] == "by the dependency"
    # Built afresh by the error layer, as for `@rate_limited` routes of faster-redis.
    assert crash.status_code == 500
    assert "x-added" not in crash.headers


async def test_nothing_added_leaves_the_response_as_it_was(
    faster_app_factory: AppFactory,
) -> None:
    app = _app(faster_app_factory)
    async with client_for(app) as client:
        nothing = await client.get("/nothing")
        plain = await client.get("/plain")

    assert "x-added" not in nothing.headers
    assert sorted(nothing.headers.keys()) == sorted(k for k in plain.headers if k != "x-added")


class CopyingScope:
    """Calls the app with a copy of the scope, as a middleware rewriting the path may do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(dict(scope), receive, send)


class CopyingPlugin:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("copying")

    @hookimpl
    def faster_middleware(self) -> list[MiddlewareSpec]:
        return [MiddlewareSpec(CopyingScope)]


@pytest.mark.parametrize("plugins", [(), (CopyingPlugin(),)], ids=["same-scope", "copied-scope"])
async def test_included_and_mounted_routes_send_them_too(
    faster_app_factory: AppFactory, handler: str, plugins: tuple[object, ...]
) -> None:
    app = _app(faster_app_factory, *plugins)
    async with _served(app, handler) as client:
        included = await client.get("/v1/inner/plain")
        mounted = await client.get("/sub/plain")

    assert included.json() == mounted.json() == {"ok": True}
    assert included.headers.get_list("x-added") == ["by the dependency"]
    assert mounted.headers.get_list("x-added") == ["by the dependency"]


async def test_adding_outside_an_app_of_create_app_is_a_configuration_error() -> None:
    app = FastAPI()

    @app.get("/plain", dependencies=[Depends(adds_a_header)])
    async def plain() -> dict[str, bool]:
        return {"ok": True}

    async with client_for(app) as client:
        with pytest.raises(ConfigurationError, match="app built by faster_core.create_app"):
            await client.get("/plain")
