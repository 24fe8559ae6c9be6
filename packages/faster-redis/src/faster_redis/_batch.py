"""Auto-pipelining of script calls: the checks issued in one turn of the event loop travel in
one pipeline, one round trip for all of them; a check alone costs no more than a direct call.

The first check of a loop turn waits for the end of that turn (`sleep(0)`): the checks issued in
it join its batch, which a task of the batcher then sends, one socket write, one read and one
connection for all of them. When none joined, the first check is sent from the request's own
task (no task, no future), and from then on a check that finds no batch forming and none in
flight is sent at once, without the wait, until a batch has company again. Under load requests
batch; a quiet server pays neither the wait nor a task per check. Each script still runs
atomically on the server, so the limits are exactly what they were.

Against one server (redis://, rediss://, unix://, Sentinel) a batch skips redis-py's command
layer: each call is packed into RESP bytes here (a limit's fixed parts once), the batch is
written with one `send_packed_command` and its replies read back in order, on connections the
batcher keeps for itself (a pool checkout costs more than the rest; beyond `OWN_CONNECTIONS`
busy ones a batch takes one from the pool). redis-py's pipeline costs several times as much per
call (argument encoding, command stack, response callbacks, a timeout context per reply); the
connection (TLS, AUTH, SELECT, Sentinel, reconnection) and its reply parser (hiredis when
installed) are still redis-py's, and `RedisService.execute` bounds each batch with the socket
timeout. The in-process stand-in and Redis Cluster, which routes each call to the node of its
slot, go through redis-py's pipeline.
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

__all__ = ["OWN_CONNECTIONS", "ScriptBatcher"]

OWN_CONNECTIONS = 4
"""Connections the batcher keeps for itself; more batches in flight at once use the pool's."""

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
    future: asyncio.Future[Any] | None
    packed: bytes = b""


class ScriptBatcher:
    """Runs script calls through `service.execute`: at once when idle, else batched per
    event-loop iteration."""

    def __init__(self, service: RedisService) -> None:
        self.service = service
        self._pending: list[_Call] = []
        self._tasks: set[asyncio.Task[None]] = set()
        settings = service.settings
        self._direct = not (settings.memory or settings.cluster)
        self._send_calls: Send = self._send_packed if self._direct else _send_pipeline
        self._idle: list[AbstractConnection] = []
        """The batcher's own connections not in use (made on demand, `OWN_CONNECTIONS` at most)."""
        self._made: list[AbstractConnection] = []
        # A limit's script, key count and arguments repeat on every request: packed once.
        self._frames: dict[tuple[str, int, tuple[Any, ...]], tuple[bytes, bytes]] = {}
        self._alone = False
        """The last batch was one check: the next check, if none is in flight, goes out at once."""
        self._in_flight = 0
        """Batches (lone checks too) sent and not yet answered."""

    async def run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        packed = self._pack(script, keys, args) if self._direct else b""
        call = _Call(script, keys, args, None, packed)
        pending = self._pending
        if self._alone and not pending and not self._in_flight:
            # Quiet: the last check had no company and none is in flight.
            return await self._run_alone(call)
        pending.append(call)
        if len(pending) > 1:
            if len(pending) == 2:
                self._start_batch()
            return await self._wait(call)
        # The first check of this loop iteration: the others issued in it join its batch.
        try:
            await asyncio.sleep(0)
        except BaseException:
            if call.future is None:  # alone, not sent: drop it
                self._pending = []
            raise
        if call.future is not None:  # others joined: the batch's task sends it
            return await call.future
        self._pending = []
        self._alone = True
        return await self._run_alone(call)

    async def _run_alone(self, call: _Call) -> Any:
        """Send `call` from the caller's task, without a task or a future of its own."""
        self._in_flight += 1
        try:
            results = await self.service.execute(
                lambda client: _run_scripts(client, [call], self._send_calls)
            )
        finally:
            self._in_flight -= 1
        return _result(results[0])

    def _start_batch(self) -> None:
        self._alone = False
        loop = asyncio.get_running_loop()
        for call in self._pending:
            call.future = loop.create_future()
        # Its first step runs on the next iteration: every check of this one joins the batch.
        task = loop.create_task(self._send_pending())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait(self, call: _Call) -> Any:
        if call.future is None:
            call.future = asyncio.get_running_loop().create_future()
        return await call.future

    def _pack(self, script: AsyncScript, keys: list[str], args: list[Any]) -> bytes:
        shape = (script.sha, len(keys), tuple(args))
        frame = self._frames.get(shape)
        if frame is None:
            frame = self._frames[shape] = _frame(script, len(keys), shape[2])
        head, tail = frame
        return (
            head + b"".join([b"$%d\r\n%b\r\n" % (len(k), k) for k in map(str.encode, keys)]) + tail
        )

    async def aclose(self) -> None:
        idle = self._idle
        for connection in self._made:
            await connection.disconnect(nowait=connection not in idle)

    async def _send_packed(self, client: aioredis.Redis, calls: list[_Call]) -> list[Any]:
        if self._idle:
            connection = self._idle.pop()
        elif len(self._made) < OWN_CONNECTIONS:
            connection = _own_connection(client)
            self._made.append(connection)
        else:  # every own connection is busy with a batch
            return await _send_pooled(client, calls)
        try:
            if len(calls) == 1:
                return [await _exchange_one(connection, calls[0])]
            return await _exchange(connection, calls)
        finally:
            self._idle.append(connection)

    async def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        self._in_flight += 1
        try:
            results = await self.service.execute(
                lambda client: _run_scripts(client, batch, self._send_calls)
            )
        except FasterError as exc:
            for call in batch:
                if call.future is not None and not call.future.done():
                    call.future.set_exception(self._copy(exc))
            return
        finally:
            self._in_flight -= 1
        for call, result in zip(batch, results, strict=True):
            future = call.future
            if future is None or future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(_error(result))
            else:
                future.set_result(result)

    def _copy(self, exc: FasterError) -> FasterError:
        """One exception per waiter, each caused by the batch's error."""
        if isinstance(exc, RedisUnavailableError):
            copy: FasterError = self.service.unavailable()
        else:
            copy = RedisError(str(exc))
        copy.__cause__ = exc.__cause__
        return copy


def _error(result: Exception) -> RedisError:
    """The server answered this call with an error (a bug, not an outage)."""
    error = RedisError(f"redis answered with an error: {type(result).__name__}")
    error.__cause__ = result
    return error


def _result(result: Any) -> Any:
    if isinstance(result, Exception):
        raise _error(result)
    return result


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
        # No health check either: its writes skip it (`check_health=False`).
        **{**pool.connection_kwargs, "socket_timeout": None, "health_check_interval": 0}
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


async def _exchange_one(connection: AbstractConnection, call: _Call) -> Any:
    """`_exchange` of one call, two coroutine frames shorter (every resumption passes them)."""
    try:
        await connection.send_packed_command(call.packed, check_health=False)
        return await connection.read_response()
    except ResponseError as exc:  # an answer: the connection is fine
        return exc
    except BaseException:
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
    if len(results) == 1 and not isinstance(results[0], NoScriptError):
        return results
    missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
    if missing:
        scripts = {batch[i].script.sha: batch[i].script for i in missing}
        for script in scripts.values():
            await client.script_load(script.script)
        retried = await send(client, [batch[i] for i in missing])
        for i, result in zip(missing, retried, strict=True):
            results[i] = result
    return results
