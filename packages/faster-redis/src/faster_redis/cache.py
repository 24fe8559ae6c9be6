"""A cache in Redis: get/set with tags, atomic invalidation by key and tag, stampede protection.

On a miss, one caller computes while the others wait for its result: callers in this process
share one future; callers in other processes wait on a short Redis lock and then read the
value. Waiting is bounded by `FASTER_REDIS_CACHE_STAMPEDE_TIMEOUT`, after which a waiter computes
itself. While Redis is down the cache follows `FASTER_REDIS_CACHE_FAILURE` (default: open,
compute every time).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import redis.asyncio as aioredis

from faster_redis import _scripts
from faster_redis.context import current_redis
from faster_redis.exceptions import RedisUnavailableError
from faster_redis.local_cache import LocalCache
from faster_redis.serialization import JsonSerializer, Serializer

if TYPE_CHECKING:
    from typing import ParamSpec

    from faster_redis.service import RedisService

    # Only for annotations (postponed by `from __future__ import annotations`).
    P = ParamSpec("P")

__all__ = ["Cache", "cached"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
POLL_INTERVAL = 0.02


class Cache:
    """The app's cache: entries, tag sets and fill locks under `<prefix>{<prefix>cache}:`.

    The one hash tag keeps them in one Redis Cluster slot, so that storing an entry with its
    tags and invalidating a tag each stay one atomic script (the cache then lives on one master
    of a cluster; rate-limit counters and locks spread over all of them)."""

    def __init__(self, service: RedisService, serializer: Serializer | None = None) -> None:
        self.service = service
        self.serializer = serializer or JsonSerializer()
        self._flights: dict[str, asyncio.Future[Any]] = {}
        settings = service.settings
        self.local = (
            LocalCache(service, settings.cache_local_size, settings.cache_local_ttl)
            if settings.cache_local_ttl > 0
            else None
        )
        self._set = service.client.register_script(_scripts.CACHE_SET)
        self._invalidate = service.client.register_script(_scripts.CACHE_INVALIDATE_TAGS)

    def entry_key(self, key: str) -> str:
        return self.service.settings.slot_key("cache", "entry", key)

    def tag_key(self, tag: str) -> str:
        return self.service.settings.slot_key("cache", "tag", tag)

    def fill_key(self, key: str) -> str:
        return self.service.settings.slot_key("cache", "fill", key)

    async def get_raw(self, key: str) -> bytes | None:
        local = self.local if self.local is not None and self.local.usable else None
        if local is not None:
            data = local.get(key)
            if data is not None:
                return data
        name = self.entry_key(key)
        if local is None:

            async def read(client: aioredis.Redis) -> Any:
                return await client.get(name)

            return cast("bytes | None", await self.service.execute(read))

        async def read_with_ttl(client: aioredis.Redis) -> Any:
            async with client.pipeline(transaction=False) as pipe:
                pipe.get(name)
                pipe.pttl(name)
                return await pipe.execute()

        data, pttl = await self.service.execute(read_with_ttl)
        if data is not None:
            local.put(key, data, int(pttl) / 1000)
        return cast("bytes | None", data)

    async def set_raw(self, key: str, data: bytes, ttl: float, tags: Iterable[str] = ()) -> None:
        keys = [self.entry_key(key), *(self.tag_key(t) for t in tags)]
        args: list[bytes | int] = [data, max(1, round(ttl * 1000))]
        await self.service.execute(lambda client: self._set(keys=keys, args=args, client=client))
        if self.local is not None:
            self.local.put(key, data, ttl)
            await self.local.announce([key])

    async def get(self, key: str) -> tuple[bool, Any]:
        """`(True, value)` on a hit, `(False, None)` on a miss."""
        data = await self.get_raw(key)
        return (False, None) if data is None else (True, self.serializer.loads(data))

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        """Store `value` for `ttl` seconds (default `FASTER_REDIS_CACHE_TTL`) under `tags`."""
        ttl = ttl if ttl is not None else self.service.settings.cache_ttl
        await self.set_raw(key, self.serializer.dumps(value), ttl, tags)

    async def delete(self, *keys: str) -> int:
        """Remove entries by key; returns how many existed."""
        names = [self.entry_key(k) for k in keys]
        if self.local is not None:
            self.local.drop(keys)
        removed: int = await self.service.execute(lambda client: client.delete(*names))
        if self.local is not None:
            await self.local.announce(keys)
        return removed

    async def invalidate_tags(self, *tags: str) -> int:
        """Remove every entry stored under any of `tags`, atomically; returns how many."""
        keys = [self.tag_key(t) for t in tags]

        def run(client: aioredis.Redis) -> Awaitable[Any]:
            return self._invalidate(keys=keys, args=[], client=client)

        if self.local is not None:
            self.local.clear()
        removed = await self.service.execute(run)
        if self.local is not None:
            await self.local.announce(everything=True)
        return int(removed)

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl: float | None = None,
        tags: Sequence[str] = (),
    ) -> T:
        """The cached value of `key`, or `compute()` run once for all concurrent callers.

        The first caller of a key in this process reads Redis and computes on a miss; callers
        arriving meanwhile wait for its result without a read of their own, so that none of
        them can see a miss that predates the first caller's write.
        """
        local = self.local
        if local is not None and local.usable:
            data = local.get(key)
            if data is not None:
                self.service.metrics.count("cache", "hit")
                return cast("T", self.serializer.loads(data))
        flight = self._flights.get(key)
        if flight is not None:
            return await self._join(flight, key, compute, ttl, tags)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            value = await self._read_or_compute(key, compute, ttl, tags)
        except asyncio.CancelledError:
            flight.cancel()  # waiters compute for themselves
            raise
        except Exception as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved here: waiters re-raise it, and none may exist
            raise
        finally:
            del self._flights[key]
        flight.set_result(value)
        return value

    async def _read_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl: float | None,
        tags: Sequence[str],
    ) -> T:
        try:
            hit, value = await self.get(key)
        except RedisUnavailableError:
            if not self.service.fails_open(self.service.settings.cache_failure, "cache"):
                raise
            return await compute()
        if hit:
            self.service.metrics.count("cache", "hit")
            return value  # type: ignore[no-any-return]
        self.service.metrics.count("cache", "miss")
        return await self._compute_once(key, compute, ttl, tags)

    async def _join(
        self,
        flight: asyncio.Future[Any],
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl: float | None,
        tags: Sequence[str],
    ) -> T:
        try:
            async with asyncio.timeout(self.service.settings.cache_stampede_timeout):
                return cast("T", await asyncio.shield(flight))
        except TimeoutError:
            logger.warning("cache fill of %s outran the stampede timeout; computing", key)
            return await compute()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if flight.cancelled() and task is not None and not task.cancelling():
                return await compute()
            raise

    async def _compute_once(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl: float | None,
        tags: Sequence[str],
    ) -> T:
        """Across processes: the holder of a short fill lock computes, others poll the value."""
        lock_key = self.fill_key(key)
        token = secrets.token_hex(8)
        timeout = self.service.settings.cache_stampede_timeout
        try:
            owner = await self.service.execute(
                lambda client: client.set(lock_key, token, nx=True, px=round(timeout * 1000))
            )
            if not owner:
                found, value = await self._await_fill(key, timeout)
                if found:
                    return value  # type: ignore[no-any-return]
        except RedisUnavailableError:
            if not self.service.fails_open(self.service.settings.cache_failure, "cache"):
                raise
            return await compute()
        try:
            value = await compute()
        except BaseException:
            # Leaving the lock would make every reader of the key wait out the stampede timeout.
            await self._release_fill(lock_key, token)
            raise
        with contextlib.suppress(RedisUnavailableError):
            await self.set(key, value, ttl, tags)
        await self._release_fill(lock_key, token)
        return value

    async def _release_fill(self, lock_key: str, token: str) -> None:
        """Delete the fill lock if it is still this caller's (it may have expired and been
        taken by another); an unreachable Redis lets it expire on its own."""
        script = self.service.client.register_script(_scripts.LOCK_RELEASE)
        with contextlib.suppress(RedisUnavailableError):
            await self.service.execute(
                lambda client: script(keys=[lock_key], args=[token], client=client)
            )

    async def _await_fill(self, key: str, wait: float) -> tuple[bool, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            await asyncio.sleep(POLL_INTERVAL)
            hit, value = await self.get(key)
            if hit:
                return True, value
        return False, None


def _default_key(fn: Callable[..., Any], arguments: dict[str, Any]) -> str:
    text = json.dumps(arguments, sort_keys=True, default=repr, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{fn.__module__}.{fn.__qualname__}:{digest}"


def cached(
    ttl: float | None = None,
    *,
    key: str | Callable[..., str] | None = None,
    tags: Sequence[str] = (),
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Cache an async function's result in the current app's Redis.

    Args:
        ttl: seconds; default `FASTER_REDIS_CACHE_TTL`.
        key: a template over the arguments (`"user:{user_id}"`), a callable taking the same
            arguments, or `None` for the function's name and a hash of its arguments.
        tags: templates over the arguments (`"user:{user_id}"`) for `invalidate_tags`.
    """

    def decorate(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            if key is None:
                name = _default_key(fn, arguments)
            elif isinstance(key, str):
                name = key.format(**arguments)
            else:
                name = key(*args, **kwargs)
            rendered_tags = [tag.format(**arguments) for tag in tags]
            return await current_redis().cache.get_or_compute(
                name, lambda: fn(*args, **kwargs), ttl, rendered_tags
            )

        return wrapper

    return decorate
