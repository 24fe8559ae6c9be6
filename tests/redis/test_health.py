"""The health check: PING with latency and circuit state; an outage is degraded, not down
(faster_redis/health.py)."""

from __future__ import annotations

from typing import Any

import pytest

from faster_core.testing import client_for
from faster_redis.testing import RedisServer
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio


def redis_check(body: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in body["checks"] if c["name"] == "redis")


async def test_health_reports_ping_latency_and_closed_circuit(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app) as client:
        response = await client.get("/health")
    check = redis_check(response.json())
    assert response.status_code == 200
    assert check["status"] == "pass"
    assert check["degraded"] is False
    assert "ping" in check["detail"]
    assert "circuit closed" in check["detail"]


async def test_outage_is_degraded_in_ready_and_health(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app(fault_settings)
    async with client_for(app) as client:
        redis_fault_server.stop()
        ready = await client.get("/health/ready")
        health = await client.get("/health")
        live = await client.get("/health/live")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert redis_check(ready.json())["degraded"] is True
    assert health.json()["status"] == "degraded"
    assert live.status_code == 200
    assert "topsecret" not in health.text


async def test_ready_can_require_redis(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app({**fault_settings, "ready_requires_redis": True})
    async with client_for(app) as client:
        assert (await client.get("/health/ready")).status_code == 200
        redis_fault_server.stop()
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


async def test_circuit_opens_and_health_shows_it(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app({**fault_settings, "circuit_reset_timeout": 30})
    async with client_for(app) as client:
        redis_fault_server.stop()
        for _ in range(3):
            await client.get("/health")
        check = redis_check((await client.get("/health")).json())
    assert "down" in check["detail"]
    assert "circuit open" in check["detail"]
    assert check["latency_ms"] < 50
