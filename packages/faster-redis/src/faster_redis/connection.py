"""Building the redis-py asyncio client from settings, and connecting with bounded retries."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import fakeredis
import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from faster_core import ConfigurationError
from faster_redis.settings import RedisSettings

__all__ = [
    "PUBSUB_CONNECTIONS",
    "UNAVAILABLE_ERRORS",
    "connect",
    "create_client",
    "is_misuse",
    "safe_url",
]

logger = logging.getLogger(__name__)
SENTINEL_PORT = 26379
REDIS_PORT = 6379
PUBSUB_CONNECTIONS = 8
"""Connections per cluster node kept beyond `pool_size` for subscriptions, which hold theirs."""

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    # Redis Cluster: slots without a master, a failover in progress, no node reachable.
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.RedisClusterException,
    TimeoutError,
    OSError,
)
"""Errors that mean Redis is out of reach (as opposed to a command answered with an error)."""


def is_misuse(exc: BaseException) -> bool:
    """A cluster client's refusal of a call it cannot route (keys in different slots, no key),
    as opposed to a cluster out of reach (no node answers, slots without a master)."""
    return (
        isinstance(exc, redis.exceptions.RedisClusterException)
        and not isinstance(exc, redis.exceptions.SlotNotCoveredError)
        and exc.__cause__ is None
    )


def safe_url(settings: RedisSettings) -> str:
    """The URL for logs and health details: `settings.url` never carries the password."""
    return settings.url


def _timeouts(settings: RedisSettings) -> dict[str, Any]:
    return {
        "socket_connect_timeout": settings.connect_timeout,
        "socket_timeout": settings.socket_timeout,
        "health_check_interval": settings.health_check_interval,
        # One try per call: a frozen server costs one timeout, and the circuit breaker decides.
        "retry": Retry(NoBackoff(), 0),
    }


def _nodes(hosts: str, default_port: int) -> list[tuple[str, int]]:
    """`host:port,host2:port2` (IPv6 in brackets) as (host, port) pairs."""
    nodes = []
    for node in hosts.split(","):
        host, colon, port = node.rpartition(":")
        if not colon or host.endswith(":") or node.endswith("]"):  # no port, or bare IPv6
            host, port = node, ""
        nodes.append((host.strip("[]"), int(port) if port else default_port))
    return nodes


def _cluster_client(settings: RedisSettings) -> aioredis.Redis:
    """`redis://seed:7000,seed2:7000` with `cluster` on: a `RedisCluster` that learns the rest
    of the cluster from the seeds. It has the same command API as `redis.asyncio.Redis`."""
    parts = urlsplit(settings.url)
    username, _, hosts = parts.netloc.rpartition("@")
    timeouts = _timeouts(settings)
    del timeouts["retry"]  # the cluster client's own retry follows MOVED / ASK redirections
    cluster = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in _nodes(hosts, REDIS_PORT)],
        username=unquote(username) or None,
        password=settings.password.get_secret_value() if settings.password else None,
        ssl=parts.scheme == "rediss",
        # Per node; `RedisService` keeps its own calls within `pool_size`, because the
        # cluster client fails (MaxConnectionsError) rather than waits for a free connection.
        max_connections=settings.pool_size + PUBSUB_CONNECTIONS,
        **timeouts,
    )
    return cast("aioredis.Redis", cluster)


def _sentinel_client(settings: RedisSettings) -> aioredis.Redis:
    """`redis+sentinel://host:26379,host2:26379/service_name[/db]`: the service's master."""
    parts = urlsplit(settings.url)
    nodes = _nodes(parts.netloc.rpartition("@")[2], SENTINEL_PORT)
    path = [segment for segment in parts.path.split("/") if segment]
    if not path:
        raise ConfigurationError(
            "FASTER_REDIS_URL: redis+sentinel:// needs the service name, "
            "e.g. redis+sentinel://127.0.0.1:26379/mymaster"
        )
    timeouts = _timeouts(settings)
    password = settings.password.get_secret_value() if settings.password else None
    sentinel = Sentinel(nodes, sentinel_kwargs=dict(timeouts), **timeouts)  # type: ignore[no-untyped-call]
    master: aioredis.Redis = sentinel.master_for(
        path[0],
        password=password,
        db=int(path[1]) if len(path) > 1 else 0,
        max_connections=settings.pool_size,
    )
    return master


def create_client(settings: RedisSettings) -> aioredis.Redis:
    """A client with a bounded blocking pool and short timeouts; memory:// is fakeredis."""
    if settings.memory:
        # A server of its own: two apps in one process do not share memory:// data.
        return fakeredis.FakeAsyncRedis(
            server=fakeredis.FakeServer(),
            connection_pool_class=aioredis.BlockingConnectionPool,
            max_connections=settings.pool_size,
            timeout=settings.socket_timeout,
        )
    if settings.url.startswith("redis+sentinel://"):
        return _sentinel_client(settings)
    if settings.cluster:
        return _cluster_client(settings)
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.url,
        password=settings.password.get_secret_value() if settings.password else None,
        max_connections=settings.pool_size,
        timeout=settings.socket_timeout,
        **_timeouts(settings),
    )
    return aioredis.Redis(connection_pool=pool)


async def connect(settings: RedisSettings) -> aioredis.Redis:
    """Create the client and PING it, retrying with doubling backoff `startup_retries` times.

    Raises the last connection error when Redis stays unreachable and `startup_required` is on;
    otherwise logs it and returns the client (features then follow their failure policy).
    """
    client = create_client(settings)
    delay = settings.startup_backoff
    for attempt in range(settings.startup_retries + 1):
        try:
            async with asyncio.timeout(settings.connect_timeout + settings.socket_timeout):
                await client.ping()
        except UNAVAILABLE_ERRORS as exc:
            logger.warning(
                "redis at %s unreachable (attempt %s of %s): %s",
                safe_url(settings),
                attempt + 1,
                settings.startup_retries + 1,
                type(exc).__name__,
            )
            if attempt == settings.startup_retries:
                if settings.startup_required:
                    await client.aclose()
                    raise
                return client
            await asyncio.sleep(delay)
            delay *= 2
        else:
            return client
    return client
