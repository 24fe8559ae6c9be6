"""The route index (faster_core/routing.py): the router's answers, without its full scan."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, WebSocket
from fastapi.routing import APIRoute
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Match, Mount, Route
from starlette.types import Message, Scope

from faster_core import FasterSettings, PluginInfo, create_app, hookimpl
from faster_core.routing import RouteIndex, index_routes
from faster_core.testing import client_for

pytestmark = pytest.mark.anyio


async def _require_key(x_key: str = Header("")) -> None:
    if x_key != "k":
        raise HTTPException(status_code=403)


class LegacyRoute(APIRoute):
    """A route class whose `matches` ignores its path: the index cannot file it by segment."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith("/legacy/"):
            return Match.FULL, {"endpoint": self.endpoint, "path_params": {}, "route": self}
        return super().matches(scope)


class AccountsPlugin:
    """Routers as the suite's plugins write them: prefixes, nesting, router dependencies."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("accounts")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        accounts = APIRouter(prefix="/accounts", tags=["accounts"])

        @accounts.post("/login")
        async def login() -> dict[str, str]:
            return {"route": "login"}

        @accounts.get("/{account_id}")
        async def account(account_id: int) -> dict[str, Any]:
            return {"route": "account", "id": account_id}

        guarded = APIRouter(dependencies=[Depends(_require_key)])

        @guarded.get("/accounts/me/secret")
        async def secret() -> dict[str, str]:
            return {"route": "secret"}

        accounts_outer = APIRouter()
        accounts_outer.include_router(guarded)
        wellknown = APIRouter()

        @wellknown.get("/.well-known/keys")
        async def keys() -> dict[str, str]:
            return {"route": "keys"}

        return [accounts, accounts_outer, wellknown]


def _text(body: str) -> Any:
    async def endpoint(_request: Any) -> PlainTextResponse:
        return PlainTextResponse(body)

    return endpoint


def _app() -> FastAPI:
    app = create_app(
        FasterSettings(_env_file=None, env="test"),
        plugins=[AccountsPlugin()],
        load_entrypoints=False,
    )

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"route": "root"}

    @app.get("/items/")
    async def items() -> dict[str, str]:
        return {"route": "items"}

    @app.put("/items/{item_id}")
    async def put_item(item_id: str) -> dict[str, str]:
        return {"route": "put-item", "id": item_id}

    @app.get("/files/{path:path}")
    async def files(path: str) -> dict[str, str]:
        return {"route": "files", "path": path}

    @app.get("/report.{fmt}")
    async def report(fmt: str) -> dict[str, str]:
        return {"route": "report", "fmt": fmt}

    versioned = APIRouter()

    @versioned.get("/anything")
    async def versioned_anything() -> dict[str, str]:
        return {"route": "v1-anything"}

    app.include_router(versioned, prefix="/v1")
    app.router.routes.append(LegacyRoute("/legacy-home", _legacy, methods=["GET"]))
    app.router.routes.append(Mount("/static", routes=[Route("/{name}", _text("static"))]))
    app.router.routes.append(
        Host("api.example", app=FastAPI(routes=[Route("/accounts/login", _text("api-host"))]))
    )

    @app.get("/{slug}")
    async def page(slug: str) -> dict[str, str]:
        return {"route": "page", "slug": slug}

    @app.get("/{section}/anything")
    async def anything(section: str) -> dict[str, str]:  # after LegacyRoute, which takes /legacy/
        return {"route": "anything", "section": section}

    @app.get("/accounts/login")
    async def shadowed() -> dict[str, str]:  # the plugin's POST route comes first
        return {"route": "shadowed-get"}

    return app


async def _legacy() -> dict[str, str]:
    return {"route": "legacy"}


def _unindexed(app: FastAPI) -> FastAPI:
    app.router.middleware_stack = app.router.app
    return app


PATHS = [
    "/",
    "/items",
    "/items/",
    "/items/7",
    "/items/7/",
    "/files/a/b/c.txt",
    "/files",
    "/report.csv",
    "/legacy/anything",
    "/legacy-home",
    "/other/anything",
    "/v1/anything",
    "/static/logo.png",
    "/static",
    "/accounts/login",
    "/accounts/login/",
    "/accounts/42",
    "/accounts/not-a-number",
    "/accounts/me/secret",
    "/.well-known/keys",
    "/.well-known/",
    "/docs",
    "/openapi.json",
    "/nowhere",
    "/nowhere/deeper",
    "//double",
    "/%2Fencoded",
]


async def _answers(app: FastAPI) -> list[tuple[str, str, str, int, str, str | None]]:
    answers = []
    async with client_for(app) as client:
        for path in PATHS:
            for method in ("GET", "POST", "PUT", "HEAD"):
                for headers in ({}, {"x-key": "k", "host": "api.example"}):
                    response = await client.request(method, path, headers=headers)
                    body = response.text
                    if response.headers.get("content-type", "").startswith(
                        "application/problem+json"
                    ):
                        body = re.sub(r'"request_id":"[^"]*"', "", body)
                    answers.append(
                        (
                            method,
                            path,
                            str(headers),
                            response.status_code,
                            body,
                            response.headers.get("location"),
                        )
                    )
    return answers


async def test_every_answer_is_the_one_the_full_scan_gives() -> None:
    indexed, control = _app(), _unindexed(_app())
    assert isinstance(indexed.router.middleware_stack, RouteIndex)

    expected = await _answers(control)
    assert await _answers(indexed) == expected
    status = {
        (method, path): code for method, path, headers, code, _, _ in expected if headers == "{}"
    }
    # the fixture app reaches every kind of answer the index must leave unchanged
    assert status[("POST", "/accounts/login")] == 200
    # the plugin's /accounts/{account_id} comes first and refuses "login" as an id
    assert status[("GET", "/accounts/login")] == 422
    assert status[("GET", "/accounts/42")] == 200
    assert status[("GET", "/accounts/me/secret")] != 200  # the router dependency refused it
    assert status[("PUT", "/items/7")] == 200
    assert status[("GET", "/items/7")] == 405
    assert status[("GET", "/legacy/anything")] == 200
    assert status[("GET", "/v1/anything")] == 200
    assert status[("GET", "/static/logo.png")] == 200
    assert status[("GET", "/report.csv")] == 200
    assert status[("GET", "/nowhere")] == 200  # the catch-all /{slug}
    assert status[("GET", "/nowhere/deeper")] == 404
    assert any(location for *_, location in expected), "no trailing-slash redirect was exercised"


async def test_routes_filed_under_another_segment_are_not_tried() -> None:
    tried: list[str] = []

    class Counted:
        def __init__(self, pattern: re.Pattern[str], name: str) -> None:
            self.pattern, self.name = pattern, name

        def match(self, path: str) -> re.Match[str] | None:
            tried.append(self.name)
            return self.pattern.match(path)

    def build() -> FastAPI:
        app = create_app(FasterSettings(_env_file=None, env="test"), load_entrypoints=False)
        for number in range(30):
            app.add_api_route(f"/plugin{number}/thing", _legacy, methods=["GET"])
        app.add_api_route("/target", _legacy, methods=["GET"])
        for route in app.router.routes:
            if isinstance(route, APIRoute):
                route.path_regex = Counted(route.path_regex, route.path)  # type: ignore[assignment]
        return app

    for app, expected_tries in ((build(), ["/target"]), (_unindexed(build()), None)):
        async with client_for(app) as client:
            tried.clear()
            assert (await client.get("/target")).json() == {"route": "legacy"}
            if expected_tries is None:
                assert len(tried) == 31  # the full scan tries every route before the target
            else:
                assert tried == expected_tries


async def test_routes_added_after_the_first_request_are_served() -> None:
    app = create_app(FasterSettings(_env_file=None, env="test"), load_entrypoints=False)
    late = APIRouter(prefix="/late")
    app.include_router(late)
    index = app.router.middleware_stack
    async with client_for(app) as client:
        assert (await client.get("/new")).status_code == 404

        app.add_api_route("/new", _legacy, methods=["GET"])

        @late.get("/one")
        async def one() -> dict[str, str]:
            return {"route": "late-one"}

        assert (await client.get("/new")).json() == {"route": "legacy"}
        indexed = await client.get("/late/one")
        app.router.middleware_stack = app.router.app
        unindexed = await client.get("/late/one")
        app.router.middleware_stack = index
    assert (indexed.status_code, indexed.text) == (unindexed.status_code, unindexed.text)


async def test_a_routes_list_changed_in_place_is_seen() -> None:
    # No FastAPI method is called, so its count of changes stays: the number of routes tells.
    app = create_app(FasterSettings(_env_file=None, env="test"), load_entrypoints=False)
    app.add_api_route("/old", _legacy, methods=["GET"])
    async with client_for(app) as client:
        assert (await client.get("/old")).status_code == 200
        assert (await client.get("/new")).status_code == 404

        old = next(r for r in app.router.routes if getattr(r, "path", None) == "/old")
        app.router.routes.remove(old)
        assert (await client.get("/old")).status_code == 404

        app.router.routes.append(APIRoute("/new", _legacy, methods=["GET"]))
        assert (await client.get("/new")).json() == {"route": "legacy"}


async def test_websocket_routes_go_through_the_index() -> None:
    app = _app()

    @app.websocket("/ws/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    inbox: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "ping"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws/echo",
        "root_path": "",
        "headers": [],
        "query_string": b"",
        "scheme": "ws",
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    assert [message["type"] for message in sent] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert sent[1]["text"] == "ping"


async def test_a_router_middleware_is_left_in_place() -> None:
    app = FastAPI()
    wrapped = app.router.middleware_stack = _Wrapper(app.router.app)
    index_routes(app)
    assert app.router.middleware_stack is wrapped
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/missing")).status_code == 404
    assert wrapped.calls == 1


class _Wrapper:
    def __init__(self, app: Any) -> None:
        self.app, self.calls = app, 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)
