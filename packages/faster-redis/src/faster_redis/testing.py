"""The pytest plugin (entry point `pytest11` `faster_redis`): Redis for your tests, and faults.

Fixtures:
    redis_server: a real redis-server on a free loopback port, started once per session.
    redis_test_settings: `plugin_settings` values for the redis plugin on that server, with a key
        prefix of the test's own (tests sharing the server do not see each other's keys).
    redis_cluster: a real Redis Cluster (3 masters, no replicas) on free loopback ports, started
        once per session; the test is skipped when the redis-server binary has no cluster mode.
    redis_cluster_test_settings: `plugin_settings` values for that cluster (`cluster` on, every
        node a seed, a prefix of the test's own).
    redis_fault_server: a real redis-server of the test's own, for fault injection.
    redis_down: `with redis_down(): ...` kills `redis_fault_server` for the block, then restarts it.
    redis_frozen: `with redis_frozen(): ...` SIGSTOPs `redis_fault_server` for the block.

Helpers:
    rate_limits(app): the app's `RateLimiter`; `with rate_limits(app).disabled(): ...` and
        `with rate_limits(app).override("login", "1000/minute"): ...` change limits per test
        without monkeypatching.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from fastapi import FastAPI

from faster_redis._server import (
    ClusterUnsupportedError,
    RedisClusterServer,
    RedisServer,
    free_port,
)
from faster_redis.context import STATE_KEY
from faster_redis.ratelimit import RateLimiter

__all__ = [
    "RedisClusterServer",
    "RedisServer",
    "free_port",
    "rate_limits",
    "redis_cluster",
    "redis_cluster_test_settings",
    "redis_down",
    "redis_fault_server",
    "redis_frozen",
    "redis_server",
    "redis_test_settings",
]

Fault = Callable[[], AbstractContextManager[None]]


def rate_limits(app: FastAPI) -> RateLimiter:
    """The running app's rate limiter (its lifespan must have started)."""
    limiter: RateLimiter = getattr(app.state, STATE_KEY).limiter
    return limiter


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_test_settings(redis_server: RedisServer) -> dict[str, Any]:
    return {"url": redis_server.url, "prefix": f"test-{uuid.uuid4().hex[:12]}:"}


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServer]:
    cluster = RedisClusterServer()
    try:
        cluster.start()
    except ClusterUnsupportedError as exc:
        pytest.skip(f"no redis-server binary with cluster mode: {exc}")
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def redis_cluster_test_settings(redis_cluster: RedisClusterServer) -> dict[str, Any]:
    return {"url": redis_cluster.url, "cluster": True, "prefix": f"test-{uuid.uuid4().hex[:12]}:"}


@pytest.fixture
def redis_fault_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_down(redis_fault_server: RedisServer) -> Fault:
    return redis_fault_server.down


@pytest.fixture
def redis_frozen(redis_fault_server: RedisServer) -> Fault:
    return redis_fault_server.frozen
