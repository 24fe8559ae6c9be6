"""The HTTP defaults: security headers, CORS, trusted hosts, GZip, middleware slots
(faster_core/middleware/)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import APIRouter
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core import ConfigurationError, MiddlewareSpec, PluginInfo, Slot, hookimpl
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio

ALLOWED = "https://app.example"


class RoutesPlugin:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("routes")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/data")
        async def data() -> dict[str, str]:
            return {"payload": "x" * 2000}

        @router.get("/small")
        async def small() -> dict[str, str]:
            return {"ok": "yes"}

        @router.get("/stream")
        async def stream() -> StreamingResponse:
            async def lines() -> AsyncIterator[bytes]:
                for number in range(200):
                    yield f"line {number}\n".encode()

            return StreamingResponse(lines(), media_type="text/plain")

        @router.get("/encoded")
        async def encoded() -> Response:
            body = gzip.compress(b"z" * 2000)
            return Response(body, headers={"content-encoding": "gzip"}, media_type="text/plain")

        return [router]


CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
)


def cors_headers(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower().startswith("access-control-")}


async def test_security_headers_are_on_every_response(faster_app_factory: AppFactory) -> None:
    async with client_for(faster_app_factory(RoutesPlugin())) as client:
        ok = await client.get("/small")
        missing = await client.get("/missing")

    for response in (ok, missing):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in response.headers


async def test_hsts_only_over_https(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(RoutesPlugin())
    async with client_for(app, base_url="https://testserver") as client:
        response = await client.get("/small")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_cors_allowed_origin_gets_cors_headers(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(RoutesPlugin(), cors_origins=[ALLOWED], cors_allow_credentials=True)
    async with client_for(app) as client:
        simple = await client.get("/small", headers={"origin": ALLOWED})
        preflight = await client.options(
            "/small",
            headers={"origin": ALLOWED, "access-control-request-method": "GET"},
        )

    assert simple.headers["access-control-allow-origin"] == ALLOWED
    assert simple.headers["access-control-allow-credentials"] == "true"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://app.example.evil"])
async def test_cors_evil_or_null_origin_gets_no_cors_headers(
    faster_app_factory: AppFactory, origin: str
) -> None:
    app = faster_app_factory(RoutesPlugin(), cors_origins=[ALLOWED], cors_allow_credentials=True)
    async with client_for(app) as client:
        simple = await client.get("/small", headers={"origin": origin})
        preflight = await client.options(
            "/small", headers={"origin": origin, "access-control-request-method": "GET"}
        )

    assert cors_headers(simple.headers) == {}
    assert cors_headers(preflight.headers) == {}
    assert preflight.status_code >= 400


async def test_no_cors_headers_without_configured_origins(faster_app_factory: AppFactory) -> None:
    async with client_for(faster_app_factory(RoutesPlugin())) as client:
        response = await client.get("/small", headers={"origin": ALLOWED})
    assert cors_headers(response.headers) == {}


async def test_untrusted_host_is_a_400_problem(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(RoutesPlugin(), trusted_hosts=["api.example", "*.example.org"])
    async with client_for(app, base_url="http://api.example") as client:
        trusted = await client.get("/small")
        wildcard = await client.get("/small", headers={"host": "eu.example.org:8443"})
        evil = await client.get("/small", headers={"host": "evil.example"})

    assert trusted.status_code == 200
    assert wildcard.status_code == 200
    assert evil.status_code == 400
    assert evil.headers["content-type"] == "application/problem+json"
    assert evil.json()["request_id"] == evil.headers["x-request-id"]


async def test_gzip_compresses_large_responses_only(faster_app_factory: AppFactory) -> None:
    async with client_for(faster_app_factory(RoutesPlugin())) as client:
        large = await client.get("/data", headers={"accept-encoding": "gzip"})
        small = await client.get("/small", headers={"accept-encoding": "gzip"})

    assert large.headers["content-encoding"] == "gzip"
    assert large.json()["payload"] == "x" * 2000
    assert "content-encoding" not in small.headers


async def test_gzip_compresses_streams_and_leaves_encoded_or_unaccepted_alone(
    faster_app_factory: AppFactory,
) -> None:
    async with client_for(faster_app_factory(RoutesPlugin())) as client:
        stream = await client.get("/stream", headers={"accept-encoding": "gzip"})
        encoded = await client.get("/encoded", headers={"accept-encoding": "gzip"})
        identity = await client.get("/data", headers={"accept-encoding": "identity"})

    assert stream.headers["content-encoding"] == "gzip"
    assert stream.text.splitlines()[-1] == "line 199"
    assert encoded.headers["content-encoding"] == "gzip"
    assert encoded.content == b"z" * 2000  # decoded once by the client: compressed only once
    assert "content-encoding" not in identity.headers
    assert identity.json()["payload"] == "x" * 2000


def tagging(tag: str) -> type[Any]:
    class Tagging:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def send_tagged(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).append((b"x-order", tag.encode()))
                await send(message)

            await self.app(scope, receive, send_tagged)

    return Tagging


class SlottedPlugin:
    def __init__(self, name: str, specs: list[MiddlewareSpec]) -> None:
        self.name, self.specs = name, specs

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name)

    @hookimpl
    def faster_middleware(self) -> list[MiddlewareSpec]:
        return self.specs


async def test_lower_slot_wraps_outside_and_equal_slots_follow_plugin_order(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(
        RoutesPlugin(),
        SlottedPlugin("one", [MiddlewareSpec(tagging("inner"), Slot.DEFAULT + 1)]),
        SlottedPlugin("two", [MiddlewareSpec(tagging("outer"), Slot.OUTERMOST)]),
        SlottedPlugin(
            "three", [MiddlewareSpec(tagging("mid-a")), MiddlewareSpec(tagging("mid-b"))]
        ),
    )
    async with client_for(app) as client:
        response = await client.get("/small")

    # The innermost middleware sees the response first and appends its tag first.
    assert response.headers.get_list("x-order") == ["inner", "mid-b", "mid-a", "outer"]


def test_base_http_middleware_is_refused(faster_app_factory: AppFactory) -> None:
    class Slow(BaseHTTPMiddleware):
        pass

    with pytest.raises(ConfigurationError, match="'slow' declares Slow, a BaseHTTPMiddleware"):
        faster_app_factory(SlottedPlugin("slow", [MiddlewareSpec(Slow)]))


async def test_a_security_header_the_app_set_is_left_as_set(faster_app_factory: AppFactory) -> None:
    class FramedRoutes(RoutesPlugin):
        @hookimpl
        def faster_plugin_info(self) -> PluginInfo:
            return PluginInfo("framed")

        @hookimpl
        def faster_routers(self) -> list[APIRouter]:
            router = APIRouter()

            @router.get("/framed")
            async def framed() -> Response:
                return Response("ok", headers={"x-frame-options": "SAMEORIGIN"})

            return [router]

    async with client_for(faster_app_factory(FramedRoutes())) as client:
        response = await client.get("/framed")

    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_standalone_middleware_adds_headers_without_the_plugin() -> None:
    from fastapi import FastAPI

    from faster_core.middleware import RequestIdMiddleware, SecurityHeadersMiddleware

    secured, identified = FastAPI(), FastAPI()
    secured.add_middleware(SecurityHeadersMiddleware, hsts_max_age=60)
    identified.add_middleware(RequestIdMiddleware)
    for app in (secured, identified):

        @app.get("/")
        async def root() -> dict[str, str]:
            return {}

    async with client_for(secured, base_url="https://testserver") as client:
        headers = (await client.get("/")).headers
    assert headers["strict-transport-security"] == "max-age=60; includeSubDomains"
    assert headers["x-frame-options"] == "DENY"
    assert "x-request-id" not in headers

    async with client_for(identified) as client:
        headers = (await client.get("/")).headers
    assert headers["x-request-id"]
    assert "x-frame-options" not in headers
