"""Plugin-to-plugin events: call a hook and await what its implementations return."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["call_hook_async"]


async def call_hook_async(hook: Any, /, **kwargs: Any) -> list[Any]:
    """Call `hook` (e.g. `host.hook.faster_auth_user_created`) and await every awaitable result.

    Implementations may be plain functions or return coroutines; results come back in plugin
    order, awaited one after the other so that an event's handlers never interleave.
    """
    results = []
    for result in hook(**kwargs):
        results.append(await result if inspect.isawaitable(result) else result)
    return results
