"""The per-app Redis handle: the client, the circuit breaker, the key prefix and the policy.

One `RedisService` is created by the plugin's lifespan and shared as `app.state.faster_redis`
(and `request.state.faster_redis`). Every feature talks to Redis through `execute`, which puts
each call under the circuit breaker and one timeout, and translates redis-py's errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.cluster import RedisCluster

from faster_redis._deadline import SharedTimeout
from faster_redis.cache import Cache
from faster_redis.circuit import CircuitBreaker, CircuitState
from faster_redis.connection import UNAVAILABLE_ERRORS, is_misuse
from faster_redis.events import Events
from faster_redis.exceptions import RedisError, RedisUnavailableError
from faster_redis.locks import Lock
from faster_redis.metrics import RedisMetrics
from faster_redis.ratelimit import RateLimiter
from faster_redis.settings import FailurePolicy, RedisSettings

__all__ = ["RedisService"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class RedisService:
    """Redis for one app: `cache`, `limiter`, `events`, `lock(...)`, and `execute` for calls of
    your own that must respect the outage policy. `client` is the raw redis-py client."""

    def __init__(
        self,
        client: aioredis.Redis,
        settings: RedisSettings,
        metrics: RedisMetrics | None = None,
        source: str = "",
    ) -> None:
        self.client = client
        self.settings = settings
        self.breaker = CircuitBreaker(
            settings.circuit_failure_threshold, settings.circuit_reset_timeout
        )
        # The cluster client fails a call that finds every connection to its node busy rather
        # than waiting: calls wait here instead, within the same timeout.
        self._calls = asyncio.Semaphore(settings.pool_size) if settings.cluster else None
        self._timeout = SharedTimeout(settings.socket_timeout)
        self.metrics = metrics or RedisMetrics()
        self.metrics.watch(self.breaker)
        self.cache = Cache(self)
        self.limiter = RateLimiter(self)
        self.events = Events(self, source)

    def lock(
        self,
        name: str,
        ttl: float | None = None,
        *,
        blocking: bool = True,
        timeout: float | None = None,
    ) -> Lock:
        """A distributed lock named `name`; see :class:`~faster_redis.locks.Lock`."""
        return Lock(self, name, ttl, blocking=blocking, timeout=timeout)

    def key(self, *parts: str) -> str:
        """`parts` joined with ':' under the app's `FASTER_REDIS_PREFIX`."""
        return self.settings.key(*parts)

    @property
    def state(self) -> str:
        """`up`, `degraded` (probing) or `down` (circuit open)."""
        return {
            CircuitState.CLOSED: "up",
            CircuitState.HALF_OPEN: "degraded",
            CircuitState.OPEN: "down",
        }[self.breaker.state]

    def unavailable(self, detail: str = "Redis is unavailable.") -> RedisUnavailableError:
        return RedisUnavailableError(detail, retry_after=self.settings.retry_after)

    async def execute(self, operation: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """Run `operation(client)` under the breaker and `socket_timeout`.

        Raises:
            RedisUnavailableError: the circuit is open, or Redis failed or timed out.
            RedisError: Redis answered with an error.
        """
        if not self.breaker.allow():
            raise self.unavailable()
        verdict = False
        try:
            if self._calls is None:
                result = await self._timeout.run(operation(self.client))
            else:
                async with asyncio.timeout(self.settings.socket_timeout), self._calls:
                    result = await operation(self.client)
            verdict = True
        except UNAVAILABLE_ERRORS as exc:
            verdict = True
            if is_misuse(exc):
                self.breaker.record_success()
                raise RedisError(f"redis cluster refused the call: {type(exc).__name__}") from exc
            self.breaker.record_failure()
            logger.warning("redis call failed: %s", type(exc).__name__)
            raise self.unavailable() from exc
        except redis.exceptions.RedisError as exc:
            verdict = True
            self.breaker.record_success()
            raise RedisError(f"redis answered with an error: {type(exc).__name__}") from exc
        finally:
            if not verdict:
                self.breaker.release_probe()
        self.breaker.record_success()
        return result

    async def ping(self) -> float:
        """PING through the breaker; returns the round trip in milliseconds."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.settings.cluster:
            # Every master: a cluster with one master down cannot serve its slots.
            await self.execute(lambda client: client.ping(target_nodes=RedisCluster.PRIMARIES))
        else:
            await self.execute(lambda client: client.ping())
        return (loop.time() - started) * 1000

    def fails_open(self, policy: FailurePolicy, feature: str) -> bool:
        """Count an outage seen by `feature`; True when it should serve without Redis."""
        self.metrics.count(feature, f"unavailable_{policy.value}")
        return policy is FailurePolicy.OPEN

    async def aclose(self) -> None:
        await self.limiter.aclose()
        await self.client.aclose()
