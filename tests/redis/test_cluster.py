"""Redis Cluster (`FASTER_REDIS_CLUSTER`): the client, hash tags that keep each script's keys in
one slot, health across masters, and a master killed under load then restarted
(faster_redis/connection.py, settings.py, service.py; the features run on the cluster too
through the `backend` fixture's "cluster" parameter)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from pydantic import ValidationError
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from faster_core.testing import client_for
from faster_redis import Limit, RedisService
from faster_redis.connection import create_client
from faster_redis.settings import RedisSettings
from faster_redis.testing import RedisClusterServer
from tests.redis.apps import build_app, outage_app

pytestmark = pytest.mark.anyio


def slot(key: str) -> int:
    return key_slot(key.encode())


def test_cluster_client_takes_every_seed_and_keeps_the_password_out() -> None:
    settings = RedisSettings(
        _env_file=None,
        url="redis://:s%3Acret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,[::2],10.0.0.3",
        cluster=True,
    )
    assert settings.url == "redis://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,[::2],10.0.0.3"
    client: object = create_client(settings)  # no I/O until the first command
    assert isinstance(client, RedisCluster)
    seeds = {(node.host, node.port) for node in client.startup_nodes}
    assert seeds == {
        ("10.0.0.1", 7000),
        ("10.0.0.2", 7001),
        ("::1", 7002),
        ("::2", 6379),
        ("10.0.0.3", 6379),
    }
    assert client.connection_kwargs["password"] == "s:cret"


@pytest.mark.parametrize("url", ["memory://", "unix:///tmp/redis.sock", "redis+sentinel://h/m"])
def test_cluster_needs_redis_urls(url: str) -> None:
    with pytest.raises(ValidationError, match="FASTER_REDIS_CLUSTER"):
        RedisSettings(_env_file=None, url=url, cluster=True)


async def test_script_keys_share_a_slot_and_limits_spread_over_masters(
    redis_cluster_test_settings: dict[str, Any],
) -> None:
    # About key placement, not outages: a loaded machine must not time a call out.
    app = build_app({**redis_cluster_test_settings, "socket_timeout": 5.0})
    async with client_for(app):
        service: RedisService = app.state.faster_redis
        cache = service.cache
        await cache.set("user:1", {"n": 1}, tags=["user", "user:1"])
        await cache.set("user:2", {"n": 2}, tags=["user"])
        cache_keys = [cache.entry_key("user:1"), cache.tag_key("user"), cache.fill_key("x")]
        assert await cache.invalidate_tags("user") == 2
        identities = [f"ip:198.51.100.{i}" for i in range(30)]
        for identity in identities:
            await service.limiter.hit(Limit.parse("1000/minute"), "spread", identity)
        cluster = cast(RedisCluster, service.client)
        pattern = service.key("rl", "*")
        counters = await asyncio.gather(
            *(cluster.keys(pattern, target_nodes=[node]) for node in cluster.get_primaries())
        )
    assert len({slot(key) for key in cache_keys}) == 1
    assert sum(len(keys) for keys in counters) == 2 * len(identities)
    assert sum(1 for keys in counters if keys) >= 2  # spread over masters by identity
    for keys in counters:
        names = [key if isinstance(key, bytes) else key.encode() for key in keys]
        for name in names:
            if name.endswith(b":seq"):  # a sliding window's two keys live together
                assert name.removesuffix(b":seq") in names


async def test_health_pings_every_master(redis_cluster_test_settings: dict[str, Any]) -> None:
    app = build_app(redis_cluster_test_settings)
    async with client_for(app) as client:
        health = (await client.get("/health")).json()
    assert health["status"] == "pass"
    check = next(c for c in health["checks"] if c["name"] == "redis")
    assert check["status"] == "pass"
    assert "up; ping" in check["detail"]


@pytest.fixture
def own_cluster() -> Iterator[RedisClusterServer]:
    """A cluster of the test's own, to kill one of its masters."""
    cluster = RedisClusterServer()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


async def test_a_master_killed_then_restarted(own_cluster: RedisClusterServer) -> None:
    settings = {
        "url": own_cluster.url,
        "cluster": True,
        "prefix": "outage:",
        "socket_timeout": 0.25,
        "connect_timeout": 0.25,
        "circuit_reset_timeout": 0.5,
    }
    app = outage_app(settings)
    # The master holding the fail-closed login limit's counter.
    victim = own_cluster.node_for("outage:rl:{login:ip:127.0.0.1}")
    async with client_for(app) as client:
        assert await until_recovered(client, within=30)  # healthy first, on a loaded machine
        victim.stop()
        try:
            during = await exercise(client, seconds=1.5)
            ready = await client.get("/health/ready")
        finally:
            victim.start()
        recovered = await until_recovered(client, within=10)
    statuses = [code for codes in during.values() for code in codes]
    assert 500 not in statuses
    assert set(during["/cached/a"]) == {200}
    assert set(during["/open"]) == {200}
    assert set(during["/health/live"]) == {200}
    assert 503 in during["/login"]
    assert set(during["/login"]) <= {200, 503}
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert recovered


async def exercise(client: httpx.AsyncClient, seconds: float) -> dict[str, list[int]]:
    """Call each route in turn for `seconds`; the statuses per path."""
    seen: dict[str, list[int]] = {path: [] for path in ("/cached/a", "/open", "/health/live")}
    seen["/login"] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        for path in ("/cached/a", "/open", "/health/live"):
            seen[path].append((await client.get(path)).status_code)
        seen["/login"].append((await client.post("/login")).status_code)
    return seen


async def until_recovered(client: httpx.AsyncClient, within: float) -> bool:
    """Whether readiness passes and the fail-closed route serves again within `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        ready = await client.get("/health/ready")
        login = await client.post("/login")
        if ready.json().get("status") == "pass" and login.status_code == 200:
            return True
        await asyncio.sleep(0.05)
    return False
