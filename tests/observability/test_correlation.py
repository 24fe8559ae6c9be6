"""Correlation context: request id, trace id, route and user
(faster_observability/correlation.py)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import APIRouter, Request

from faster_core import PluginInfo, hookimpl
from faster_core.testing import AppFactory, client_for
from faster_observability import (
    ObservabilityPlugin,
    correlation_fields,
    current_request_context,
    current_trace_id,
    set_user_id,
)
from faster_observability.correlation import parse_traceparent

pytestmark = pytest.mark.anyio

TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-b7ad6b7169203331-01".encode(), (TRACE, "b7ad6b7169203331")),
        (f" 00-{TRACE}-b7ad6b7169203331-00 ".encode(), (TRACE, "b7ad6b7169203331")),
        (f"00-{'0' * 32}-b7ad6b7169203331-01".encode(), None),  # invalid trace id
        (f"00-{TRACE}-{'0' * 16}-01".encode(), None),  # invalid parent id
        (f"00-{TRACE.upper()}-b7ad6b7169203331-01".encode(), None),  # must be lower-case hex
        (b"garbage", None),
    ],
)
def test_parse_traceparent(header: bytes, expected: tuple[str, str] | None) -> None:
    assert parse_traceparent(header) == expected


def test_outside_a_request_there_is_no_context() -> None:
    set_user_id("nobody")  # does nothing, raises nothing
    assert current_request_context() is None
    assert current_trace_id() is None
    assert correlation_fields() == {}


class Probe:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("probe")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/probe/{name}")
        async def probe(name: str, request: Request) -> dict[str, object]:
            set_user_id(7)
            context = current_request_context()
            assert context is not None
            in_task = await asyncio.create_task(_fields_in_task())
            return {
                "fields": correlation_fields(),
                "route": context.route,
                "user": context.user_id,
                "in_task": in_task,
                "problem_id": request.state.request_id,
            }

        return [router]


async def _fields_in_task() -> dict[str, str]:
    return correlation_fields()


async def test_request_context_carries_ids_route_and_user_into_tasks(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(ObservabilityPlugin(), Probe())
    async with client_for(app) as client:
        body = (
            await client.get(
                "/probe/x",
                headers={
                    "X-Request-ID": "req-probe",
                    "traceparent": f"00-{TRACE}-b7ad6b7169203331-01",
                },
            )
        ).json()

    expected = {"request_id": "req-probe", "trace_id": TRACE}
    assert body == {
        "fields": expected,
        "route": "/probe/{name}",
        "user": "7",
        "in_task": expected,
        "problem_id": "req-probe",
    }


async def test_error_bodies_carry_the_request_id(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(ObservabilityPlugin(), Probe())
    async with client_for(app) as client:
        response = await client.get("/nowhere", headers={"X-Request-ID": "req-404"})
    assert response.json()["request_id"] == "req-404"
    assert response.headers["x-request-id"] == "req-404"
