"""Auto-pipelining of rate-limit checks: concurrent checks share round trips and connections,
and one call's error stays its own (faster_redis/_batch.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from faster_core.testing import client_for
from faster_redis import Limit, RedisError, RedisService
from faster_redis.testing import RedisServer
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio


async def connections(server: RedisServer) -> int:
    async with aioredis.Redis(port=server.port) as probe:
        return len(await probe.client_list()) - 1


async def test_concurrent_checks_share_one_connection(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app({**fault_settings, "socket_timeout": 2.0})
    async with client_for(app):
        service: RedisService = app.state.faster_redis
        before = await connections(redis_fault_server)
        limit = Limit(1000, 60)
        decisions = await asyncio.gather(
            *(service.limiter.hit(limit, "batch", f"ip:{i % 5}") for i in range(200))
        )
        after = await connections(redis_fault_server)
    assert all(d.allowed for d in decisions)
    assert min(d.remaining for d in decisions) == 960  # 40 per identity, each counted
    assert after - before <= 2


async def test_one_failing_call_does_not_fail_its_batch(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        service: RedisService = app.state.faster_redis
        # A foreign value of the wrong type where one identity's counter would live.
        await service.client.set(service.key("rl", "{batch:ip:broken}"), "not a sorted set")
        limit = Limit(10, 60)
        results = await asyncio.gather(
            service.limiter.hit(limit, "batch", "ip:broken"),
            service.limiter.hit(limit, "batch", "ip:fine"),
            return_exceptions=True,
        )
    assert isinstance(results[0], RedisError)
    assert not isinstance(results[1], BaseException)
    assert results[1].allowed
