"""The in-process layer in front of the Redis cache: hits without a round trip, kept coherent
across processes over pub/sub (faster_redis/local_cache.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

from faster_core.testing import client_for
from faster_redis import RedisService
from faster_redis.testing import RedisServer
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio


def service_of(app: FastAPI) -> RedisService:
    service: RedisService = app.state.faster_redis
    return service


async def eventually(check: Any, within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polls another process's view
            await asyncio.sleep(0.01)


async def test_repeated_hits_do_not_reach_redis(backend: dict[str, Any]) -> None:
    app = build_app({**backend, "cache_local_ttl": 30})
    async with client_for(app):
        service = service_of(app)
        await service.cache.set("k", "v1")
        # Changed behind the cache's back: the local layer still answers.
        await service.client.set(service.cache.entry_key("k"), b'"v2"')
        assert await service.cache.get("k") == (True, "v1")


async def test_local_layer_can_be_turned_off(backend: dict[str, Any]) -> None:
    app = build_app({**backend, "cache_local_ttl": 0})
    async with client_for(app):
        service = service_of(app)
        assert service.cache.local is None
        await service.cache.set("k", "v1")
        await service.client.set(service.cache.entry_key("k"), b'"v2"')
        assert await service.cache.get("k") == (True, "v2")


async def test_entries_never_outlive_their_redis_ttl(backend: dict[str, Any]) -> None:
    app = build_app({**backend, "cache_local_ttl": 30})
    async with client_for(app):
        cache = service_of(app).cache
        await cache.set("short", 1, ttl=0.2)
        await asyncio.sleep(0.3)
        assert await cache.get("short") == (False, None)


async def test_writes_and_invalidations_reach_other_processes(
    redis_test_settings: dict[str, Any],
) -> None:
    # Two apps on one server stand for two processes; a long local TTL means only the
    # broadcast can explain what the second one sees.
    settings = {**redis_test_settings, "cache_local_ttl": 30}
    first, second = build_app(settings), build_app(settings)
    async with client_for(first), client_for(second):
        one, two = service_of(first).cache, service_of(second).cache
        await one.set("profile", "old", tags=["user:1"])
        assert await two.get("profile") == (True, "old")  # now held locally by `two`

        await one.set("profile", "new", tags=["user:1"])

        async def two_sees_new() -> bool:
            return await two.get("profile") == (True, "new")

        await eventually(two_sees_new)

        await one.invalidate_tags("user:1")

        async def two_sees_nothing() -> bool:
            return await two.get("profile") == (False, None)

        await eventually(two_sees_nothing)

        await one.set("other", 1)
        assert await two.get("other") == (True, 1)
        await one.delete("other")

        async def two_sees_deleted() -> bool:
            return await two.get("other") == (False, None)

        await eventually(two_sees_deleted)


async def test_layer_is_bypassed_while_unsubscribed(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app({**fault_settings, "cache_local_ttl": 30})
    async with client_for(app):
        cache = service_of(app).cache
        await cache.set("k", "v")
        assert cache.local is not None
        assert cache.local.get("k") == b'"v"'
        with redis_fault_server.down():

            async def unsubscribed() -> bool:
                return not cache.local.usable  # type: ignore[union-attr]

            await eventually(unsubscribed)
            # The outage is visible (fail-open compute) rather than hidden by stale memory.
            assert await cache.get_or_compute("k", _fresh) == "fresh"


async def _fresh() -> str:
    return "fresh"
