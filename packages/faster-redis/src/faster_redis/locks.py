"""Distributed locks: a TTL, an owner token, blocking or not, extension, and `@locked`.

A lock is `SET key token NX PX ttl`; release and extend are Lua scripts that act only while the
key still holds this owner's token, so a holder that overran its TTL can never release or extend
the lock that someone else acquired since. While Redis is down, locks follow
`FASTER_REDIS_LOCK_FAILURE` (default: closed, a 503 problem).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from faster_redis import _scripts
from faster_redis.context import current_redis
from faster_redis.exceptions import LockNotAcquiredError, RedisUnavailableError

if TYPE_CHECKING:
    from typing import ParamSpec

    from faster_redis.service import RedisService

    # Only for annotations (postponed by `from __future__ import annotations`).
    P = ParamSpec("P")

__all__ = ["Lock", "locked"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Lock:
    """`async with service.lock("report", ttl=30, timeout=5): ...`

    Args:
        name: the lock's name (under `<prefix>lock:`).
        ttl: seconds the lock lives unless extended; default `FASTER_REDIS_LOCK_TTL`.
        blocking: wait for the lock (up to `timeout`) rather than fail at once.
        timeout: seconds to wait when blocking; default `ttl`.
        retry_interval: seconds between attempts while waiting.
    """

    def __init__(
        self,
        service: RedisService,
        name: str,
        ttl: float | None = None,
        *,
        blocking: bool = True,
        timeout: float | None = None,
        retry_interval: float = 0.02,
    ) -> None:
        self.service = service
        self.name = name
        self.key = service.key("lock", name)
        self.ttl = ttl if ttl is not None else service.settings.lock_ttl
        self.blocking = blocking
        self.timeout = timeout if timeout is not None else self.ttl
        self.retry_interval = retry_interval
        self.token: str | None = None
        self.unguarded = False
        """True when Redis was down and the lock fails open: the block ran without a lock."""

    @property
    def _px(self) -> int:
        return max(1, round(self.ttl * 1000))

    async def _try(self, token: str) -> bool:
        return bool(
            await self.service.execute(
                lambda client: client.set(self.key, token, nx=True, px=self._px)
            )
        )

    async def acquire(
        self, *, blocking: bool | None = None, blocking_timeout: float | None = None
    ) -> bool:
        """Take the lock; False when it is held elsewhere (after the timeout when blocking)."""
        blocking = self.blocking if blocking is None else blocking
        timeout = self.timeout if blocking_timeout is None else blocking_timeout
        token = secrets.token_hex(16)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if await self._try(token):
                    self.token = token
                    self.service.metrics.count("lock", "acquired")
                    return True
                if not blocking or loop.time() >= deadline:
                    self.service.metrics.count("lock", "busy")
                    return False
                await asyncio.sleep(min(self.retry_interval, max(0.0, deadline - loop.time())))
        except RedisUnavailableError:
            if not self.service.fails_open(self.service.settings.lock_failure, "lock"):
                raise
            logger.warning("lock %s taken unguarded: Redis is unavailable", self.name)
            self.unguarded = True
            return True

    async def release(self) -> bool:
        """Release if still ours; False when the lock expired (and may be someone else's)."""
        token, self.token = self.token, None
        if token is None:
            return False
        script = self.service.client.register_script(_scripts.LOCK_RELEASE)
        released = await self.service.execute(
            lambda client: script(keys=[self.key], args=[token], client=client)
        )
        if not released:
            logger.warning("lock %s had expired before its release", self.name)
        return bool(released)

    async def extend(self, ttl: float | None = None) -> bool:
        """Reset the lock's TTL to `ttl` (default: its own) if still ours."""
        if self.token is None:
            return False
        px = max(1, round((ttl if ttl is not None else self.ttl) * 1000))
        script = self.service.client.register_script(_scripts.LOCK_EXTEND)
        token = self.token
        extended = await self.service.execute(
            lambda client: script(keys=[self.key], args=[token, px], client=client)
        )
        return bool(extended)

    async def locked(self) -> bool:
        """Whether anyone holds the lock now."""
        return bool(await self.service.execute(lambda client: client.exists(self.key)))

    async def __aenter__(self) -> Lock:
        if not await self.acquire():
            raise LockNotAcquiredError(f"The resource {self.name!r} is locked; try again later.")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.unguarded:
            self.unguarded = False
            return
        try:
            await self.release()
        except RedisUnavailableError:
            logger.warning(
                "lock %s not released: Redis is unavailable; it expires by TTL", self.name
            )


def locked(
    name: str,
    *,
    ttl: float | None = None,
    blocking: bool = True,
    timeout: float | None = None,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Run the async function under the lock `name` (a template over its arguments, e.g.
    `"invoice:{invoice_id}"`), in the current app's Redis; raises `LockNotAcquiredError`."""

    def decorate(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            lock_name = name.format(**bound.arguments)
            lock = Lock(current_redis(), lock_name, ttl, blocking=blocking, timeout=timeout)
            async with lock:
                return await fn(*args, **kwargs)

        return wrapper

    return decorate
