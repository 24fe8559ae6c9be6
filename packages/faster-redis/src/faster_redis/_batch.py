"""Auto-pipelining of script calls: the checks issued in one turn of the event loop travel in
one pipeline, one round trip for all of them.

Under load many requests reach their rate-limit check in the same loop iteration; sending their
`EVALSHA`s together spends one socket write, one read and one pool checkout on all of them. A
lone request waits for nothing: its batch is sent on the next loop iteration. Each script still
runs atomically on the server, so the limits are exactly what they were.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from faster_core import FasterError
from faster_redis.exceptions import RedisError, RedisUnavailableError

if TYPE_CHECKING:
    from faster_redis.service import RedisService

__all__ = ["ScriptBatcher"]


@dataclass(slots=True)
class _Call:
    script: AsyncScript
    keys: list[str]
    args: list[Any]
    future: asyncio.Future[Any]


class ScriptBatcher:
    """Runs script calls through `service.execute`, batched per event-loop iteration."""

    def __init__(self, service: RedisService) -> None:
        self.service = service
        self._pending: list[_Call] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append(_Call(script, keys, args, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            results = await self.service.execute(lambda client: _pipeline(client, batch))
        except FasterError as exc:
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(self._copy(exc))
            return
        for call, result in zip(batch, results, strict=True):
            if call.future.done():
                continue
            if isinstance(result, Exception):
                # The server answered this call with an error (a bug, not an outage).
                error = RedisError(f"redis answered with an error: {type(result).__name__}")
                error.__cause__ = result
                call.future.set_exception(error)
            else:
                call.future.set_result(result)

    def _copy(self, exc: FasterError) -> FasterError:
        """One exception per waiter, each caused by the batch's error."""
        if isinstance(exc, RedisUnavailableError):
            copy: FasterError = self.service.unavailable()
        else:
            copy = RedisError(str(exc))
        copy.__cause__ = exc.__cause__
        return copy


async def _evalsha_all(client: aioredis.Redis, calls: list[_Call]) -> list[Any]:
    async with client.pipeline(transaction=False) as pipe:
        for call in calls:
            pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        return results


async def _pipeline(client: aioredis.Redis, batch: list[_Call]) -> list[Any]:
    """EVALSHA every call; scripts the server does not know (after a restart or SCRIPT FLUSH)
    are loaded and their calls sent again. A call's error reply stays in its place."""
    results = await _evalsha_all(client, batch)
    missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
    if missing:
        scripts = {batch[i].script.sha: batch[i].script for i in missing}
        for script in scripts.values():
            await client.script_load(script.script)
        retried = await _evalsha_all(client, [batch[i] for i in missing])
        for i, result in zip(missing, retried, strict=True):
            results[i] = result
    return results
