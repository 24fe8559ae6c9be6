"""Pub/sub: the event envelope, subscriptions that survive a server restart, and the bridge of
events to every worker's `faster_redis_event` hook (faster_redis/events.py, hookspecs.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

from faster_core import PluginInfo, hookimpl
from faster_core.testing import client_for
from faster_redis import Event, RedisService, RedisUnavailableError, Subscription
from faster_redis.testing import RedisServer
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio


def service_of(app: FastAPI) -> RedisService:
    service: RedisService = app.state.faster_redis
    return service


async def collect(subscription: Subscription, into: list[Event]) -> None:
    async for event in subscription:
        into.append(event)


async def wait_for(condition: Any, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polls state that no event signals
            await asyncio.sleep(0.02)


async def test_subscriber_receives_typed_events(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    received: list[Event] = []
    async with client_for(app):
        events = service_of(app).events
        subscription = events.subscribe("orders")
        task = asyncio.create_task(collect(subscription, received))
        await asyncio.wait_for(subscription.ready.wait(), 5)
        sent = Event(type="order.paid", payload={"order": 7}, source="shop")
        assert await events.publish("orders", sent) == 1
        await wait_for(lambda: len(received) == 1)
        task.cancel()
    assert received[0] == sent
    assert received[0].time.tzinfo is not None


async def test_subscription_survives_a_server_restart(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app(fault_settings)
    received: list[Event] = []
    async with client_for(app):
        service = service_of(app)
        subscription = service.events.subscribe("news")
        task = asyncio.create_task(collect(subscription, received))
        await asyncio.wait_for(subscription.ready.wait(), 5)
        await service.events.publish("news", Event(type="before"))
        await wait_for(lambda: len(received) == 1)

        redis_fault_server.stop()
        await wait_for(lambda: not subscription.ready.is_set())
        redis_fault_server.start()
        await asyncio.wait_for(subscription.ready.wait(), 10)

        # The breaker may still be open from the outage: publish once it admits calls again.
        sent = [Event(type=f"after-{i}") for i in range(20)]
        for event in sent:
            while True:
                try:
                    await service.events.publish("news", event)
                    break
                except RedisUnavailableError:
                    await asyncio.sleep(0.1)
        await wait_for(lambda: len(received) == 21)
        task.cancel()
    assert [e.id for e in received[1:]] == [e.id for e in sent]
    assert subscription.reconnects >= 1


class Handlers:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[Event] = []

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name)

    @hookimpl
    async def faster_redis_event(self, event: Event, app: FastAPI) -> None:
        self.seen.append(event)


async def test_bridge_delivers_an_event_to_every_worker(backend: dict[str, Any]) -> None:
    if backend["url"] == "memory://":
        # One process, one app: the bridge still delivers to its own handlers.
        handlers = Handlers("handlers")
        app = build_app(backend, handlers)
        async with client_for(app):
            event = await service_of(app).events.emit("user.created", {"id": 1})
            await wait_for(lambda: len(handlers.seen) == 1)
        assert handlers.seen[0].id == event.id
        return
    one, two = Handlers("handlers"), Handlers("handlers")
    first, second = build_app(backend, one), build_app(backend, two)
    async with client_for(first), client_for(second):
        event = await service_of(first).events.emit("user.created", {"id": 1})
        await wait_for(lambda: len(one.seen) == 1 and len(two.seen) == 1)
    assert one.seen[0].id == two.seen[0].id == event.id
    assert one.seen[0].payload == {"id": 1}


async def test_no_bridge_without_handlers(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        numsub = await service_of(app).client.pubsub_numsub(service_of(app).key("events"))
    assert numsub[0][1] == 0


class _CancelBecomesTimeout:
    """A pub/sub whose read turns a cancellation into a `TimeoutError`, as a read timeout that
    expires at the same moment as a cancellation does."""

    def __init__(self) -> None:
        self.reads = 0

    async def subscribe(self, *channels: str) -> None:
        return None

    async def get_message(self, timeout: float) -> None:  # noqa: ASYNC109 - redis-py's signature
        self.reads += 1
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise TimeoutError from None

    async def aclose(self) -> None:
        return None


async def test_a_cancellation_absorbed_by_a_read_timeout_still_ends_the_subscription(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = build_app({"url": "memory://"})
    async with client_for(app):
        service = service_of(app)
        fake = _CancelBecomesTimeout()
        monkeypatch.setattr(service.client, "pubsub", lambda: fake)
        task = asyncio.create_task(collect(service.events.subscribe("news"), []))
        await wait_for(lambda: fake.reads == 1)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
    assert done == {task}  # before the fix it reconnected for ever
    assert task.cancelled()
    assert fake.reads == 1
