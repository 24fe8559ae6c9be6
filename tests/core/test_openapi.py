"""The OpenAPI schema documents the problem+json errors the core really sends
(faster_core/openapi.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Body

from faster_core import PluginInfo, hookimpl
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


class CounterPlugin:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("counter")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.post("/count")
        async def count(n: int = Body(embed=True)) -> dict[str, int]:
            return {"n": n}

        @router.get("/plain")
        async def plain() -> dict[str, str]:
            return {"ok": "yes"}

        return [router]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    name = node["$ref"].rsplit("/", 1)[-1]
    resolved: dict[str, Any] = schema["components"]["schemas"][name]
    return resolved


async def test_every_operation_documents_problems_and_422_is_the_validation_problem(
    faster_app_factory: AppFactory,
) -> None:
    async with client_for(faster_app_factory(CounterPlugin())) as client:
        schema = (await client.get("/openapi.json")).json()
        invalid = await client.post("/count", json={"n": "many"})

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            default = operation["responses"]["default"]["content"]
            assert list(default) == [PROBLEM], (path, method)
    documented = schema["paths"]["/count"]["post"]["responses"]["422"]["content"]
    assert list(documented) == [PROBLEM]
    validation = _resolve(schema, documented[PROBLEM]["schema"])
    problem = _resolve(schema, validation["allOf"][0])
    body = invalid.json()
    assert invalid.headers["content-type"] == PROBLEM
    assert set(problem["required"]) <= set(body)
    assert "errors" in body
    assert set(body["errors"][0]) == set(
        validation["allOf"][1]["properties"]["errors"]["items"]["properties"]
    )
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "422" not in schema["paths"]["/plain"]["get"]["responses"]
