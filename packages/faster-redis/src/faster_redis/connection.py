"""Building the redis-py asyncio client from settings, and connecting with bounded retries."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import fakeredis
import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from faster_core import ConfigurationError
from faster_redis.settings import RedisSettings

__all__ = ["UNAVAILABLE_ERRORS", "connect", "create_client", "safe_url"]

logger = logging.getLogger(__name__)
SENTINEL_PORT = 26379

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    TimeoutError,
    OSError,
)
"""Errors that mean Redis is out of reach (as opposed to a command answered with an error)."""


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


def _sentinel_client(settings: RedisSettings) -> aioredis.Redis:
    """`redis+sentinel://host:26379,host2:26379/service_name[/db]`: the service's master."""
    parts = urlsplit(settings.url)
    hosts = parts.netloc.rpartition("@")[2]
    nodes = []
    for node in hosts.split(","):
        host, _, port = node.rpartition(":")
        nodes.append((host or node, int(port) if port else SENTINEL_PORT))
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
