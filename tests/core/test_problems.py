"""Every error is an RFC 9457 problem with the request id and nothing internal
(faster_core/problems.py, faster_core/middleware/errors.py)."""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from faster_core import (
    ConflictError,
    PluginInfo,
    ServiceUnavailableError,
    hookimpl,
    problem_response,
)
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio

SECRET = "postgresql://admin:hunter2-very-secret@db.internal:5432/prod"


class Signup(BaseModel):
    email: str
    password: str
    age: int


class RoutesPlugin:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("routes")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/items/{item_id}")
        async def get_item(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        @router.post("/signup")
        async def signup(body: Signup) -> dict[str, str]:
            return {"email": body.email}

        @router.get("/boom")
        async def boom() -> None:
            raise RuntimeError(f"could not connect to {SECRET}")

        @router.get("/conflict")
        async def conflict() -> None:
            raise ConflictError("That email is already registered.")

        @router.get("/unavailable")
        async def unavailable() -> None:
            raise ServiceUnavailableError("The database is unavailable.", retry_after=7)

        return [router]


@pytest.fixture
def app(faster_app_factory: AppFactory) -> FastAPI:
    return faster_app_factory(RoutesPlugin())


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance", "request_id"} <= body.keys()
    assert body["request_id"] == response.headers["x-request-id"]
    for leak in ("Traceback", "hunter2", "RuntimeError", 'File "', ".py", "postgresql"):
        assert leak not in response.text
    return body


async def test_unknown_path_is_a_404_problem(app: FastAPI) -> None:
    async with client_for(app) as client:
        body = assert_problem(await client.get("/nowhere"), 404)
    assert body["instance"] == "/nowhere"
    assert body["title"] == "Not Found"


async def test_wrong_method_is_a_405_problem(app: FastAPI) -> None:
    async with client_for(app) as client:
        response = await client.delete("/items/1")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


async def test_validation_error_lists_each_field_without_echoing_values(app: FastAPI) -> None:
    async with client_for(app) as client:
        response = await client.post(
            "/signup", json={"email": 5, "password": ["hunter2-very-secret"], "age": "old"}
        )
    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"body.email", "body.password", "body.age"}
    assert all({"field", "message", "type"} == error.keys() for error in body["errors"])
    assert "old" not in response.text


async def test_path_parameter_validation_is_a_422_problem(app: FastAPI) -> None:
    async with client_for(app) as client:
        body = assert_problem(await client.get("/items/not-a-number"), 422)
    assert body["errors"][0]["field"] == "path.item_id"


async def test_malformed_json_is_a_422_problem(app: FastAPI) -> None:
    async with client_for(app) as client:
        response = await client.post(
            "/signup", content=b'{"email": ', headers={"content-type": "application/json"}
        )
    assert_problem(response, 422)


async def test_unhandled_exception_is_a_generic_500_problem_and_is_logged(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="faster_core.errors")
    async with client_for(app) as client:
        response = await client.get("/boom", headers={"x-request-id": "req-500-test"})

    body = assert_problem(response, 500)
    assert body["request_id"] == "req-500-test"
    assert response.headers["x-content-type-options"] == "nosniff"
    record = next(r for r in caplog.records if r.name == "faster_core.errors")
    assert record.exc_info is not None
    assert record.request_id == "req-500-test"  # type: ignore[attr-defined]
    assert "GET /boom" in record.getMessage()


async def test_oversized_body_is_a_413_problem(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(RoutesPlugin(), max_body_size=1024)
    async with client_for(app) as client:
        response = await client.post("/signup", content=b"x" * 2048)
    body = assert_problem(response, 413)
    assert "1024 bytes" in body["detail"]


async def test_oversized_chunked_body_is_a_413_problem(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(RoutesPlugin(), max_body_size=1024)

    async def chunks() -> Any:
        for _ in range(8):
            yield b"{" + b" " * 255

    async with client_for(app) as client:
        response = await client.post("/signup", content=chunks())
    assert_problem(response, 413)


async def test_body_under_the_limit_reaches_the_handler(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(RoutesPlugin(), max_body_size=1024)
    async with client_for(app) as client:
        response = await client.post(
            "/signup", json={"email": "a@example.com", "password": "pw", "age": 3}
        )
    assert response.status_code == 200


async def test_suite_errors_keep_their_status_detail_and_headers(app: FastAPI) -> None:
    async with client_for(app) as client:
        conflict = assert_problem(await client.get("/conflict"), 409)
        unavailable = await client.get("/unavailable")

    assert conflict["detail"] == "That email is already registered."
    assert conflict["type"] == "urn:faster:problem:conflict"
    assert_problem(unavailable, 503)
    assert unavailable.headers["retry-after"] == "7"


async def test_request_id_is_accepted_when_well_formed_and_replaced_otherwise(app: FastAPI) -> None:
    async with client_for(app) as client:
        kept = await client.get("/items/1", headers={"x-request-id": "abc-123.DEF_4"})
        replaced = await client.get("/items/1", headers={"x-request-id": "bad id\twith spaces"})
        generated = await client.get("/items/1")

    assert kept.headers["x-request-id"] == "abc-123.DEF_4"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    assert replaced.headers["x-request-id"] != generated.headers["x-request-id"]


def test_an_http_status_enum_becomes_a_plain_status_code() -> None:
    response = problem_response({"path": "/x", "state": {}}, HTTPStatus.NOT_FOUND)
    assert type(response.status_code) is int
    assert json.loads(bytes(response.body))["status"] == 404
