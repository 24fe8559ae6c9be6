"""A small in-process layer in front of the Redis cache, kept coherent over pub/sub.

Reading a hit from Redis costs a round trip; reading it from this layer costs a dictionary
look-up. Entries live at most `FASTER_REDIS_CACHE_LOCAL_TTL` seconds. Every write, delete and tag
invalidation is published on `<prefix>cache-invalidate`, and each process drops what it holds
for those keys (a tag invalidation clears the whole layer). The layer is used only while this
process is subscribed: while the subscription is down, or after it reconnected (messages may
have been missed), older entries are not served. What remains: a read racing an invalidation in
another process may keep the old value for up to the local TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from faster_redis.events import Event, Subscription
from faster_redis.exceptions import RedisUnavailableError

if TYPE_CHECKING:
    from faster_redis.service import RedisService

__all__ = ["LocalCache"]

logger = logging.getLogger(__name__)
CHANNEL = "cache-invalidate"


class LocalCache:
    """Bounded LRU of raw cache entries with a short TTL, invalidated over pub/sub."""

    def __init__(self, service: RedisService, size: int, ttl: float) -> None:
        self.service = service
        self.size = size
        self.ttl = ttl
        self.origin = uuid.uuid4().hex
        self._entries: OrderedDict[str, tuple[float, int, bytes]] = OrderedDict()
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def usable(self) -> bool:
        subscription = self._subscription
        return subscription is not None and subscription.ready.is_set()

    def get(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is None or self._subscription is None:
            return None
        expires, generation, data = found
        if expires < time.monotonic() or generation != self._subscription.reconnects:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return data

    def put(self, key: str, data: bytes, ttl: float) -> None:
        """Keep `data` for `ttl` seconds at most (and never longer than the local TTL)."""
        if self._subscription is None or ttl <= 0:
            return
        generation = self._subscription.reconnects
        self._entries[key] = (time.monotonic() + min(ttl, self.ttl), generation, data)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    async def announce(self, keys: Iterable[str] = (), *, everything: bool = False) -> None:
        """Tell the other processes to drop `keys` (or everything); best effort."""
        event = Event(
            type="clear" if everything else "drop", payload={"keys": list(keys)}, source=self.origin
        )
        try:
            await self.service.events.publish(CHANNEL, event)
        except RedisUnavailableError:
            # Others cannot be told; their entries expire within the local TTL.
            logger.warning("cache invalidation not broadcast: Redis is unavailable")

    async def start(self, ready_within: float) -> None:
        self._subscription = self.service.events.subscribe(CHANNEL)
        self._task = asyncio.create_task(
            self._listen(self._subscription), name="faster-redis-cache"
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ready_within):
                await self._subscription.ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self, subscription: Subscription) -> None:
        async for event in subscription:
            if event.source == self.origin:
                continue
            if event.type == "clear":
                self.clear()
            else:
                self.drop(event.payload.get("keys", ()))
