"""Refreshing cached answers before they expire, so that steady traffic never waits for one.

An answer older than half its TTL is still served, and one background look-up per key renews
it; only an answer past its TTL makes a request wait. Used by `UserGate` and `Revocations`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["RefreshAhead"]

logger = logging.getLogger(__name__)

STOP_SECONDS = 5.0
"""How long shutting down waits for cancelled refreshes to end (a frozen server can delay a
connection's clean-up)."""


class RefreshAhead:
    """At most one background refresh per key at a time."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[None]] = {}

    def start(self, key: str, refresh: Callable[[], Awaitable[object]]) -> None:
        if key in self._running:
            return
        task = asyncio.get_running_loop().create_task(self._run(refresh))
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))

    async def stop(self) -> None:
        """Cancel the refreshes still running and wait (at most `STOP_SECONDS`) until they have
        ended: called while the database and Redis they use are still open. A refresh left to
        end after those close could wait forever on a connection's worker, and hold up the
        event loop's shutdown."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=STOP_SECONDS)
        if pending:
            logger.warning(
                "%d refreshes ahead of time had not ended %g s after they were cancelled",
                len(pending),
                STOP_SECONDS,
            )

    @staticmethod
    async def _run(refresh: Callable[[], Awaitable[object]]) -> None:
        try:
            await refresh()
        except Exception:  # a background task's boundary: logged; the next request retries
            logger.warning("refreshing a cached answer ahead of time failed", exc_info=True)
