"""The plugin: the client's lifecycle, start-up retries, the `Redis` dependency and the mapping
of redis-py's errors (faster_redis/plugin.py, connection.py, dependencies.py, service.py)."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest
from redis.asyncio.cluster import RedisCluster

from faster_core import PluginStartupError
from faster_core.testing import client_for
from faster_redis import RedisHandle, RedisService
from faster_redis.exceptions import RedisError
from faster_redis.testing import RedisServer, free_port
from tests.redis.apps import build_app, outage_app

pytestmark = pytest.mark.anyio


async def test_service_lives_in_the_lifespan_and_closes(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        service = app.state.faster_redis
        assert isinstance(service, RedisService)
        assert await service.client.ping()
    if service.settings.cluster:
        # aclose() disconnected every node's connections.
        nodes = cast(RedisCluster, service.client).get_nodes()
        assert nodes
        assert not any(c.is_connected for node in nodes for c in node._connections)
    elif not service.settings.memory:
        # aclose() disconnected the pool: no connection is left open.
        assert service.client.connection_pool._in_use_connections == set()


async def test_redis_dependency_gives_the_app_client(backend: dict[str, Any]) -> None:
    app = outage_app(backend)
    async with client_for(app) as client:
        await app.state.faster_redis.client.set(app.state.faster_redis.key("k"), "v")
        response = await client.get("/raw")
    assert response.status_code == 200
    assert response.json()["exists"] == 1


async def test_keys_carry_the_prefix(backend: dict[str, Any]) -> None:
    app = build_app({**backend, "prefix": "shop-a:"})

    @app.get("/write")
    async def write(redis: RedisHandle) -> dict[str, str]:
        await redis.cache.set("greeting", "hi")
        return {"key": redis.cache.entry_key("greeting")}

    async with client_for(app) as client:
        key = (await client.get("/write")).json()["key"]
        assert key == "shop-a:{shop-a:cache}:entry:greeting"
        assert await app.state.faster_redis.client.exists(key) == 1


async def test_start_up_retries_are_bounded_and_name_the_plugin() -> None:
    port = free_port()  # nothing listens there
    app = build_app(
        {
            "url": f"redis://:topsecret@127.0.0.1:{port}/0",
            "startup_retries": 2,
            "startup_backoff": 0.05,
        }
    )
    started = time.perf_counter()
    with pytest.raises(PluginStartupError) as caught:
        async with client_for(app):
            pass
    assert time.perf_counter() - started < 5
    assert "'redis'" in str(caught.value)
    assert "topsecret" not in str(caught.value)


async def test_start_up_can_tolerate_an_absent_server() -> None:
    app = build_app(
        {
            "url": f"redis://127.0.0.1:{free_port()}/0",
            "startup_retries": 0,
            "startup_required": False,
        }
    )
    async with client_for(app) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"


async def test_raw_client_outage_is_a_503_problem(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = outage_app(fault_settings)
    async with client_for(app) as client:
        redis_fault_server.stop()
        response = await client.get("/raw")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"


async def test_command_errors_map_to_redis_error(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        service: RedisService = app.state.faster_redis
        await service.client.set(service.key("text"), "x")
        with pytest.raises(RedisError) as caught:
            await service.execute(lambda c: c.lpush(service.key("text"), "y"))
    assert caught.value.__cause__ is not None
    assert service.breaker.failures == 0


async def test_memory_in_production_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    app = build_app({"url": "memory://"}, env="production", docs=False)
    with caplog.at_level("WARNING", logger="faster_redis.plugin"):
        async with client_for(app):
            pass
    assert any("memory:// in production" in r.getMessage() for r in caplog.records)
