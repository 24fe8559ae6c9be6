"""Publishing account events off the request path (the hooks of `faster_auth.hookspecs`).

`AccountEvents.emit` schedules the hook call as a task and returns at once: a slow or failing
implementation never delays or breaks the response. Like `faster_core.call_hook_async`, each
implementation is called in plugin order and what it returns is awaited; unlike it, each runs
in its own task, so a slow one does not delay the others and one that raises is logged while
the others still run. Tasks are kept until done (an unreferenced task may be garbage-collected
mid-flight) and awaited, bounded, when the app shuts down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from faster_auth import delivery
from faster_core import PluginHost

if TYPE_CHECKING:
    from pluggy import HookImpl

__all__ = ["AccountEvents"]

logger = logging.getLogger(__name__)

DELIVERY_HOOKS = frozenset(
    {"faster_auth_password_reset_requested", "faster_auth_email_verification_requested"}
)


class AccountEvents:
    """Calls faster-auth's published hooks in background tasks for one app."""

    def __init__(self, host: PluginHost, *, log_links: bool) -> None:
        self._host = host
        self._log_links = log_links
        self._tasks: set[asyncio.Task[None]] = set()

    def emit(self, hook_name: str, **kwargs: Any) -> None:
        """Call hook `hook_name` with `kwargs` (and `host`) in the background."""
        self._track(asyncio.get_running_loop().create_task(self._call(hook_name, kwargs)))

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run `job` in the background like an event: kept, awaited at shutdown, failure logged."""
        self._track(asyncio.get_running_loop().create_task(_reported(job)))

    async def drain(self, grace: float = 10.0) -> None:
        """Wait (at most `grace` seconds) for every pending call; cancel what is left.

        A job may emit events of its own, so this waits until no task is left, not just for
        the tasks pending when it was called.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                late = list(self._tasks)
                for task in late:
                    task.cancel()
                await asyncio.wait(late)
                logger.warning("cancelled %s account event handler(s) at shutdown", len(late))
                return
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def _call(self, hook_name: str, kwargs: dict[str, Any]) -> None:
        implementations = getattr(self._host.hook, hook_name).get_hookimpls()
        if hook_name in DELIVERY_HOOKS and not implementations:
            delivery.deliver_without_implementation(hook_name, log_links=self._log_links, **kwargs)
            return
        arguments = {**kwargs, "host": self._host}
        # Started in plugin order (pluggy calls the last registered first), each in its own
        # task: a slow implementation must not hold the event back from the others, and one
        # that raises must not keep it from them either.
        for impl in reversed(implementations):
            self.spawn(_call_one(impl, hook_name, arguments))


async def _call_one(impl: HookImpl, hook_name: str, arguments: dict[str, Any]) -> None:
    try:
        result = impl.function(*(arguments[arg] for arg in impl.argnames))
        if inspect.isawaitable(result):
            await result
    except Exception:
        # The boundary between faster-auth and another plugin's handler: report, go on.
        logger.exception("plugin %r failed handling %s", impl.plugin_name, hook_name)


async def _reported(job: Coroutine[Any, Any, None]) -> None:
    try:
        await job
    except Exception:
        # A background job's boundary: nobody awaits it, so report here.
        logger.exception("an account background job failed")
