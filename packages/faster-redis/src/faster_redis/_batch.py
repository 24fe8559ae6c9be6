"""Auto-pipelining of script calls: the checks issued in one turn of the event loop travel in
one pipeline, one round trip for all of them.

Under load many requests reach their rate-limit check in the same loop iteration; sending their
`EVALSHA`s together spends one socket write, one read and one pool checkout on all of them. A
lone request waits for nothing: its batch is sent on the next loop iteration. Each script still
runs atomically on the server, so the limits are exactly what they were.

Against one server (redis://, rediss://, unix://, Sentinel) a batch skips redis-py's command
layer: each call is packed into RESP bytes here (a limit's fixed parts once), the batch is
written with one `send_packed_command` and its replies read back in order, on a connection the
batcher keeps for itself (a pool checkout costs more than the rest; a batch that finds it busy
takes one from the pool). redis-py's pipeline costs several times as much per call (argument
encoding, command stack, response callbacks, a timeout context per reply); the connection
(TLS, AUTH, SELECT, Sentinel, reconnection) is still redis-py's, and `RedisService.execute`
bounds each batch with the socket timeout. The in-process stand-in and Redis Cluster, which
routes each call to the node of its slot, go through redis-py's pipeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from faster_core import FasterError
from faster_redis.exceptions import RedisError, RedisUnavailableError

if TYPE_CHECKING:
    from faster_redis.service import RedisService

__all__ = ["ScriptBatcher"]


Send = Callable[[aioredis.Redis, "list[_Call]"], Awaitable["list[Any]"]]


def _bulk(value: str | bytes | int) -> bytes:
    data = value if isinstance(value, bytes) else str(value).encode()
    return b"$%d\r\n%b\r\n" % (len(data), data)


def _frame(script: AsyncScript, keys: int, args: tuple[Any, ...]) -> tuple[bytes, bytes]:
    """What comes before the keys of `EVALSHA sha numkeys key... arg...` (as one RESP array),
    and what comes after them."""
    head = b"*%d\r\n$7\r\nEVALSHA\r\n" % (keys + len(args) + 3) + _bulk(script.sha) + _bulk(keys)
    return head, b"".join(map(_bulk, args))


@dataclass(slots=True)
class _Call:
    script: AsyncScript
    keys: list[str]
    args: list[Any]
    future: asyncio.Future[Any]
    packed: bytes = b""


class ScriptBatcher:
    """Runs script calls through `service.execute`, batched per event-loop iteration."""

    def __init__(self, service: RedisService) -> None:
        self.service = service
        self._pending: list[_Call] = []
        self._tasks: set[asyncio.Task[None]] = set()
        settings = service.settings
        self._direct = not (settings.memory or settings.cluster)
        self._send_calls: Send = self._send_packed if self._direct else _send_pipeline
        self._own: AbstractConnection | None = None
        """The batcher's own connection (made on first use)."""
        self._own_busy = False
        # A limit's script, key count and arguments repeat on every request: packed once.
        self._frames: dict[tuple[str, int, tuple[Any, ...]], tuple[bytes, bytes]] = {}

    async def run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        call = _Call(script, keys, args, future)
        if self._direct:
            call.packed = self._pack(script, keys, args)
        self._pending.append(call)
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _pack(self, script: AsyncScript, keys: list[str], args: list[Any]) -> bytes:
        shape = (script.sha, len(keys), tuple(args))
        frame = self._frames.get(shape)
        if frame is None:
            frame = self._frames[shape] = _frame(script, len(keys), shape[2])
        head, tail = frame
        encoded = [key.encode() for key in keys]
        return head + b"".join([b"$%d\r\n%b\r\n" % (len(k), k) for k in encoded]) + tail

    async def aclose(self) -> None:
        if self._own is not None:
            await self._own.disconnect(nowait=self._own_busy)

    async def _send_packed(self, client: aioredis.Redis, calls: list[_Call]) -> list[Any]:
        if self._own_busy:  # another batch is using it
            return await _send_pooled(client, calls)
        if self._own is None:
            self._own = _own_connection(client)
        self._own_busy = True
        try:
            return await _exchange(self._own, calls)
        finally:
            self._own_busy = False

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            results = await self.service.execute(
                lambda client: _run_scripts(client, batch, self._send_calls)
            )
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


async def _send_pipeline(client: aioredis.Redis, calls: list[_Call]) -> list[Any]:
    async with client.pipeline(transaction=False) as pipe:
        for call in calls:
            # Not `pipe.evalsha`: the cluster pipeline refuses that name, but routes the command.
            pipe.execute_command("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        return results


def _own_connection(client: aioredis.Redis) -> AbstractConnection:
    """A connection like the pool's, without redis-py's own write timeout (a task per write):
    `RedisService.execute` bounds the whole batch instead."""
    pool = client.connection_pool
    connection: AbstractConnection = pool.connection_class(
        **{**pool.connection_kwargs, "socket_timeout": None}
    )
    return connection


async def _send_pooled(client: aioredis.Redis, calls: list[_Call]) -> list[Any]:
    pool = client.connection_pool
    connection: AbstractConnection = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        return await _exchange(connection, calls)
    finally:
        await pool.release(connection)


async def _exchange(connection: AbstractConnection, calls: list[_Call]) -> list[Any]:
    """Write the batch at once, then read its replies in order."""
    try:
        await connection.send_packed_command(b"".join(c.packed for c in calls), check_health=False)
        return [await _reply(connection) for _ in calls]
    except BaseException:
        # Replies may be left unread on the socket: the connection is not reusable as it is
        # (redis-py reconnects it on its next use).
        await connection.disconnect(nowait=True)
        raise


async def _reply(connection: AbstractConnection) -> Any:
    try:
        # The batcher's own connection has no socket timeout, so no timeout context per reply:
        # `RedisService.execute` bounds the whole batch.
        return await connection.read_response()
    except ResponseError as exc:
        return exc


async def _run_scripts(client: aioredis.Redis, batch: list[_Call], send: Send) -> list[Any]:
    """EVALSHA every call; scripts the server does not know (after a restart or SCRIPT FLUSH)
    are loaded and their calls sent again. A call's error reply stays in its place."""
    results = await send(client, batch)
    missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
    if missing:
        scripts = {batch[i].script.sha: batch[i].script for i in missing}
        for script in scripts.values():
            await client.script_load(script.script)
        retried = await send(client, [batch[i] for i in missing])
        for i, result in zip(missing, retried, strict=True):
            results[i] = result
    return results
