"""The cache: `@cached`, keys and tags, atomic tag invalidation, stampede protection, JSON only,
and the failure policy (faster_redis/cache.py, serialization.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

from faster_core import ConfigurationError
from faster_core.testing import client_for
from faster_redis import RedisService, RedisUnavailableError, cached, use_redis
from faster_redis.testing import RedisServer
from tests.redis.apps import Counter, build_app

pytestmark = pytest.mark.anyio


def service_of(app: FastAPI) -> RedisService:
    service: RedisService = app.state.faster_redis
    return service


async def test_cached_function_runs_once_per_key(backend: dict[str, Any]) -> None:
    counter = Counter()

    @cached(ttl=30, key="user:{user_id}")
    async def load_user(user_id: int) -> dict[str, Any]:
        counter.calls += 1
        return {"id": user_id, "name": f"user {user_id}"}

    app = build_app(backend)
    async with client_for(app), asyncio.timeout(10):
        with use_redis(service_of(app)):
            first = await load_user(1)
            again = await load_user(user_id=1)
            other = await load_user(2)
        stored = await service_of(app).client.get(service_of(app).cache.entry_key("user:1"))
    assert first == again == {"id": 1, "name": "user 1"}
    assert other["id"] == 2
    assert counter.calls == 2
    assert stored == b'{"id":1,"name":"user 1"}'  # JSON, not pickle


async def test_cached_works_inside_requests(backend: dict[str, Any]) -> None:
    counter = Counter()

    @cached(ttl=30)
    async def expensive(n: int) -> int:
        counter.calls += 1
        return n * 2

    app = build_app(backend)

    @app.get("/double/{n}")
    async def double(n: int) -> dict[str, int]:
        return {"value": await expensive(n)}

    async with client_for(app) as client:
        values = [(await client.get("/double/21")).json()["value"] for _ in range(3)]
    assert values == [42, 42, 42]
    assert counter.calls == 1


async def test_cached_outside_any_app_says_how_to_bind() -> None:
    @cached(ttl=1)
    async def f() -> int:
        return 1

    with pytest.raises(ConfigurationError, match="use_redis"):
        await f()


async def test_ttl_expires_entries(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        cache = service_of(app).cache
        await cache.set("short", 1, ttl=0.6)
        assert await cache.get("short") == (True, 1)
        await asyncio.sleep(0.8)
        assert await cache.get("short") == (False, None)


async def test_none_is_a_hit_not_a_miss(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        cache = service_of(app).cache
        await cache.set("nothing", None)
        assert await cache.get("nothing") == (True, None)


async def test_tag_invalidation_removes_exactly_the_tagged_entries(
    backend: dict[str, Any],
) -> None:
    app = build_app(backend)
    async with client_for(app):
        cache = service_of(app).cache
        await cache.set("profile:42", {"a": 1}, tags=["user:42"])
        await cache.set("orders:42", [1, 2], tags=["user:42", "orders"])
        await cache.set("profile:7", {"a": 7}, tags=["user:7"])
        await cache.set("orders:7", [7], tags=["user:7", "orders"])
        await cache.set("untagged", "x")
        removed = await cache.invalidate_tags("user:42")
        left = {
            k: (await cache.get(k))[0]
            for k in ("profile:42", "orders:42", "profile:7", "orders:7", "untagged")
        }
        assert removed == 2
        assert left == {
            "profile:42": False,
            "orders:42": False,
            "profile:7": True,
            "orders:7": True,
            "untagged": True,
        }
        assert await cache.invalidate_tags("orders") == 1
        assert (await cache.get("orders:7"))[0] is False
        assert (await cache.get("profile:7"))[0] is True


async def test_invalidation_by_key(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        cache = service_of(app).cache
        await cache.set("a", 1)
        await cache.set("b", 2)
        assert await cache.delete("a", "missing") == 1
        assert (await cache.get("a"))[0] is False
        assert (await cache.get("b"))[0] is True


async def test_cached_tags_follow_the_arguments(backend: dict[str, Any]) -> None:
    counter = Counter()

    @cached(ttl=30, key="profile:{user_id}", tags=["user:{user_id}"])
    async def profile(user_id: int) -> int:
        counter.calls += 1
        return counter.calls

    app = build_app(backend)
    async with client_for(app):
        with use_redis(service_of(app)):
            assert await profile(1) == 1
            assert await profile(1) == 1
            await service_of(app).cache.invalidate_tags("user:1")
            assert await profile(1) == 2


async def test_stampede_runs_the_function_once(backend: dict[str, Any]) -> None:
    counter = Counter()

    @cached(ttl=30, key="cold")
    async def slow() -> str:
        counter.calls += 1
        await asyncio.sleep(0.2)
        return "value"

    app = build_app(backend)

    @app.get("/cold")
    async def cold() -> dict[str, str]:
        return {"value": await slow()}

    async with client_for(app) as client:
        responses = await asyncio.gather(*(client.get("/cold") for _ in range(200)))
    assert [r.status_code for r in responses] == [200] * 200
    assert {r.json()["value"] for r in responses} == {"value"}
    assert counter.calls == 1


async def test_stampede_across_apps_waits_for_the_filler(
    redis_test_settings: dict[str, Any],
) -> None:
    # Two apps on one server stand for two processes: the second waits on the fill lock.
    counter = Counter()

    async def compute() -> str:
        counter.calls += 1
        await asyncio.sleep(0.3)
        return "shared"

    first, second = build_app(redis_test_settings), build_app(redis_test_settings)
    async with client_for(first), client_for(second):
        results = await asyncio.gather(
            service_of(first).cache.get_or_compute("k", compute),
            service_of(second).cache.get_or_compute("k", compute),
        )
    assert list(results) == ["shared", "shared"]
    assert counter.calls == 1


async def test_a_failed_computation_reaches_every_waiter(backend: dict[str, Any]) -> None:
    async def boom() -> str:
        await asyncio.sleep(0.05)
        raise ValueError("nope")

    app = build_app(backend)
    async with client_for(app):
        cache = service_of(app).cache
        results = await asyncio.gather(
            *(cache.get_or_compute("bad", boom) for _ in range(5)), return_exceptions=True
        )
    assert all(isinstance(r, ValueError) for r in results)


async def test_outage_serves_computed_values_when_open(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    counter = Counter()

    async def compute() -> int:
        counter.calls += 1
        return 7

    app = build_app(fault_settings)
    async with client_for(app):
        with redis_fault_server.down():
            values = [await service_of(app).cache.get_or_compute("x", compute) for _ in range(3)]
    assert values == [7, 7, 7]
    assert counter.calls == 3


async def test_outage_raises_when_closed(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    async def compute() -> int:
        return 7

    app = build_app({**fault_settings, "cache_failure": "closed"})
    async with client_for(app):
        with redis_fault_server.down(), pytest.raises(RedisUnavailableError):
            await service_of(app).cache.get_or_compute("x", compute)
