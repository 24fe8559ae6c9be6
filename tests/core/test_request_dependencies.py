"""Request dependencies: called by the core before FastAPI's handler, with FastAPI's semantics
kept (faster_core/request_dependencies.py).

No `from __future__ import annotations`: the routes are declared in functions, with local
dependency aliases FastAPI must resolve."""

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute

from faster_core import request_dependency
from faster_core.request_dependencies import _HoistedApp
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio


class Caller:
    """Stands for `CurrentUser`'s dependency: reads a header, refuses requests without it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, request: Request) -> str:
        self.calls += 1
        name = request.headers.get("x-caller")
        if name is None:
            raise HTTPException(401, "who are you?")
        return name


def _apps(factory: AppFactory) -> tuple[FastAPI, Caller, list[str]]:
    caller = Caller()
    caller_name = Annotated[str, Depends(request_dependency(caller))]
    journal: list[str] = []

    async def audited(request: Request) -> None:
        journal.append(f"audited {request.url.path}")

    async def needs_caller(name: caller_name) -> str:
        return name.upper()

    app = factory()

    @app.get("/hello")
    async def hello(name: caller_name, times: int) -> dict[str, Any]:
        return {"hello": name, "times": times}

    @app.get("/audited-first", dependencies=[Depends(audited)])
    async def audited_first(name: caller_name) -> dict[str, str]:
        return {"hello": name}

    @app.get("/sync")
    def sync(name: caller_name) -> dict[str, str]:
        return {"hello": name}

    @app.get("/nested")
    async def nested(shout: Annotated[str, Depends(needs_caller)]) -> dict[str, str]:
        return {"hello": shout}

    router = APIRouter(prefix="/included")

    @router.get("/hello")
    async def included(name: caller_name) -> dict[str, str]:
        return {"hello": name}

    app.include_router(router, prefix="/v1")
    return app, caller, journal


def _route(app: FastAPI, path: str) -> APIRoute:
    return next(r for r in app.routes if isinstance(r, APIRoute) and r.path == path)


async def test_a_leading_request_dependency_gives_the_endpoint_its_value(
    faster_app_factory: AppFactory,
) -> None:
    app, caller, _ = _apps(faster_app_factory)
    async with client_for(app) as client:
        direct = await client.get("/hello", params={"times": 2}, headers={"x-caller": "ada"})
        included = await client.get("/v1/included/hello", headers={"x-caller": "bob"})

    assert direct.json() == {"hello": "ada", "times": 2}
    assert included.json() == {"hello": "bob"}
    assert caller.calls == 2
    assert isinstance(_route(app, "/hello").app, _HoistedApp)


async def test_a_refusing_request_dependency_answers_before_parameters_are_validated(
    faster_app_factory: AppFactory,
) -> None:
    app, _, _ = _apps(faster_app_factory)
    async with client_for(app) as client:
        anonymous = await client.get("/hello")  # no caller and no `times`: 401, not 422
        invalid = await client.get("/hello", params={"times": "x"}, headers={"x-caller": "ada"})

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert invalid.status_code == 422


async def test_dependencies_declared_before_it_still_run_first(
    faster_app_factory: AppFactory,
) -> None:
    app, caller, journal = _apps(faster_app_factory)
    async with client_for(app) as client:
        response = await client.get("/audited-first")

    assert response.status_code == 401
    assert journal == ["audited /audited-first"]
    assert caller.calls == 1
    assert not isinstance(_route(app, "/audited-first").app, _HoistedApp)


async def test_sync_endpoints_and_nested_uses_keep_fastapis_handler(
    faster_app_factory: AppFactory,
) -> None:
    app, _, _ = _apps(faster_app_factory)
    async with client_for(app) as client:
        sync = await client.get("/sync", headers={"x-caller": "ada"})
        nested = await client.get("/nested", headers={"x-caller": "ada"})
        nested_anonymous = await client.get("/nested")

    assert sync.json() == {"hello": "ada"}
    assert nested.json() == {"hello": "ADA"}
    assert nested_anonymous.status_code == 401
    for path in ("/sync", "/nested"):
        assert not isinstance(_route(app, path).app, _HoistedApp)


async def test_dependency_overrides_take_fastapis_own_path(faster_app_factory: AppFactory) -> None:
    app, caller, _ = _apps(faster_app_factory)

    async def someone() -> str:
        return "override"

    async with client_for(app) as client:
        before = await client.get("/hello", params={"times": 1}, headers={"x-caller": "ada"})
        app.dependency_overrides[caller] = someone
        overridden = await client.get("/hello", params={"times": 1})
        included = await client.get("/v1/included/hello")
        app.dependency_overrides.clear()
        after = await client.get("/hello", params={"times": 1})

    assert before.json() == {"hello": "ada", "times": 1}
    assert overridden.json() == {"hello": "override", "times": 1}
    assert included.json() == {"hello": "override"}
    assert after.status_code == 401


async def test_the_openapi_schema_is_the_declared_routes(faster_app_factory: AppFactory) -> None:
    app, _, _ = _apps(faster_app_factory)
    async with client_for(app) as client:
        await client.get("/hello", params={"times": 1}, headers={"x-caller": "ada"})
        schema = (await client.get("/openapi.json")).json()

    parameters = schema["paths"]["/hello"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["times"]
