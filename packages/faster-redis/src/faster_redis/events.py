"""Pub/sub with a typed envelope, subscriptions that survive a Redis restart, and the bridge
that carries the app's events to every worker.

`Subscription` reconnects with backoff after the connection drops and subscribes again; its
`ready` event is set while subscribed, so a caller knows from when on it receives every message.
The bridge publishes `await service.events.emit("order.paid", {...})` on
`<prefix><FASTER_REDIS_EVENTS_CHANNEL>`, and every worker's bridge calls the
`faster_redis_event(event, app)` hook of its plugins for each event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from pydantic import BaseModel, Field, ValidationError
from redis.asyncio.client import PubSub

from faster_core import call_hook_async
from faster_redis.connection import UNAVAILABLE_ERRORS

if TYPE_CHECKING:
    from faster_core import PluginHost
    from faster_redis.service import RedisService

__all__ = ["Event", "EventBridge", "Events", "Subscription"]

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


class Event(BaseModel):
    """The envelope of every message: who sent what, when, with which payload."""

    type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    id: str = Field(default_factory=_new_id)
    time: datetime = Field(default_factory=_now)
    source: str = ""


class Subscription:
    """`async for event in service.events.subscribe("orders"): ...` — reconnects forever."""

    def __init__(
        self,
        service: RedisService,
        channels: tuple[str, ...],
        *,
        initial_backoff: float = 0.05,
        max_backoff: float = 1.0,
    ) -> None:
        self.service = service
        self.channels = tuple(service.key(c) for c in channels)
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.ready = asyncio.Event()
        """Set while subscribed to every channel; cleared when the connection is lost."""
        self.reconnects = 0

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        delay = self.initial_backoff
        task = asyncio.current_task()
        while True:
            pubsub = self.service.client.pubsub()
            try:
                await pubsub.subscribe(*self.channels)
                async for event in self._read(pubsub):
                    delay = self.initial_backoff
                    yield event
            except UNAVAILABLE_ERRORS as exc:
                if task is not None and task.cancelling():
                    # A read timeout and a cancellation at once surface as TimeoutError: the
                    # task is being cancelled, not the connection lost.
                    raise asyncio.CancelledError from exc
                self.ready.clear()
                self.reconnects += 1
                logger.warning("subscription lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            finally:
                self.ready.clear()
                with contextlib.suppress(*UNAVAILABLE_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read(self, pubsub: PubSub) -> AsyncIterator[Event]:
        confirmed: set[bytes] = set()
        task = asyncio.current_task()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if task is not None and task.cancelling():
                # A cancellation that met the read's own timeout may have been absorbed there;
                # this loop never ends on its own, so it honours the request here.
                raise asyncio.CancelledError
            if message is None:
                continue
            if message["type"] == "subscribe":
                confirmed.add(message["channel"])
                if len(confirmed) == len(set(self.channels)):
                    self.ready.set()
            elif message["type"] == "message":
                try:
                    yield Event.model_validate_json(message["data"])
                except ValidationError:
                    logger.warning("dropped a message that is not an Event envelope")


class Events:
    """Publish and subscribe on the app's Redis."""

    def __init__(self, service: RedisService, source: str = "") -> None:
        self.service = service
        self.source = source

    async def publish(self, channel: str, event: Event) -> int:
        """Publish `event` on `channel`; returns how many subscribers received it."""
        data = event.model_dump_json()
        receivers: int = await self.service.execute(
            lambda client: client.publish(self.service.key(channel), data)
        )
        return receivers

    async def emit(self, type_: str, payload: dict[str, Any] | None = None) -> Event:
        """Publish an event to the bridge: every worker's `faster_redis_event` handlers get it."""
        event = Event(type=type_, payload=payload or {}, source=self.source)
        await self.publish(self.service.settings.events_channel, event)
        return event

    def subscribe(self, *channels: str) -> Subscription:
        return Subscription(self.service, channels)


class EventBridge:
    """A background task per worker: bridge events in, `faster_redis_event` hooks out."""

    def __init__(self, service: RedisService, host: PluginHost, app: FastAPI) -> None:
        self.subscription = service.events.subscribe(service.settings.events_channel)
        self.host = host
        self.app = app
        self._task: asyncio.Task[None] | None = None

    async def start(self, ready_within: float) -> None:
        self._task = asyncio.create_task(self._run(), name="faster-redis-event-bridge")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ready_within):
                await self.subscription.ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        async for event in self.subscription:
            try:
                await call_hook_async(self.host.hook.faster_redis_event, event=event, app=self.app)
            except Exception:  # a handler's failure must not stop the bridge; it is logged
                logger.exception("a faster_redis_event handler failed for %s", event.type)
