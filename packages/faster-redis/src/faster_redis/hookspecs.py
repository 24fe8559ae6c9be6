"""Hooks the redis plugin publishes (through `faster_add_hookspecs`) for other plugins and apps."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from faster_core import hookspec

if TYPE_CHECKING:
    from fastapi import FastAPI

    from faster_redis.events import Event

__all__ = ["faster_redis_event"]


@hookspec
def faster_redis_event(event: Event, app: FastAPI) -> Awaitable[None] | None:
    """An event emitted with `service.events.emit(...)` by any worker of any host reached this one.

    Called once per event in every worker whose app has the redis plugin enabled, in plugin
    order; awaitables returned are awaited one after the other. The bridge runs only when at
    least one plugin implements this hook. A handler that raises is logged and does not stop
    the others or later events.

    Args:
        event: the envelope (`id`, `type`, `time`, `source`, `payload`).
        app: this worker's app.

    Returns:
        `None`, or an awaitable the bridge awaits.
    """
