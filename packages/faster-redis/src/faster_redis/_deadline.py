"""One timer for every Redis call of a service, instead of one per call.

`asyncio.timeout` schedules a timer for each call and cancels it after: a heap push and a
cancelled handle that the event loop sweeps later, an eighth of the Python a rate-limit check
ran. Calls under one timeout reach their deadlines in the order they started, so one timer at
the oldest running call's deadline bounds them all: when it fires, it cancels the calls past
their deadline (turned into `TimeoutError`, as `asyncio.timeout` does) and is set again for the
oldest call still running.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["SharedTimeout"]

T = TypeVar("T")


class _Call:
    __slots__ = ("cancelling", "deadline", "done", "expired", "task")

    def __init__(self, deadline: float, task: asyncio.Task[object], cancelling: int) -> None:
        self.deadline = deadline
        self.task = task
        self.cancelling = cancelling
        self.done = False
        self.expired = False


class SharedTimeout:
    """`await shared.run(awaitable)`: `awaitable` bounded by `timeout` seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._running: deque[_Call] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Raises `TimeoutError` when `awaitable` takes longer than `timeout`."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("SharedTimeout.run must be awaited inside a task")
        loop = task.get_loop()
        if loop is not self._loop:  # first use, or a service used from another loop since
            self._loop, self._running, self._timer = loop, deque(), None
        call = _Call(loop.time() + self.timeout, task, task.cancelling())
        running = self._running
        running.append(call)
        if self._timer is None:
            self._timer = loop.call_at(call.deadline, self._expire)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if call.expired and task.uncancel() <= call.cancelling:
                raise TimeoutError from None
            raise
        finally:
            call.done = True
            while running and running[0].done:
                running.popleft()

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a timer of a loop the service has left
            return
        now = loop.time()
        running = self._running
        while running and (running[0].done or running[0].deadline <= now):
            call = running.popleft()
            if not call.done:
                call.expired = True
                call.task.cancel()
        self._timer = loop.call_at(running[0].deadline, self._expire) if running else None
