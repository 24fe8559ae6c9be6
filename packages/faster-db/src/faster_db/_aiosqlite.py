"""aiosqlite connections whose statements cost one thread hand-off instead of four.

aiosqlite runs every call on its connection's own thread; each call is a hand-off there and
back (a queue put, a thread switch, a wake-up of the event loop). SQLAlchemy's adapted cursor
makes four per statement: create the cursor, execute, fetch all rows, close. The cursor here
does all four on the thread in one hand-off: it executes, fetches the first `PREFETCH_ROWS`
rows and, when that is all there is, closes its `sqlite3` cursor before coming back. Results
with more rows keep their cursor open and fetch the rest as asked (streamed results stay
streamed). A transaction's BEGIN makes no hand-off of its own: it runs with the transaction's
first statement (`OneHopConnection.begin`). Errors are the driver's own (`sqlite3.Error`,
`ValueError` for a closed connection), raised where aiosqlite raises them, so SQLAlchemy maps
them as before.

It builds on aiosqlite's `Connection` (its worker thread, its queue `_execute`, its `_conn` on
that thread); `tests/db/test_aiosqlite.py` pins the hand-offs per request, so a change there
shows.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from functools import partial
from types import TracebackType
from typing import Any

import aiosqlite

__all__ = ["PREFETCH_ROWS", "OneHopConnection", "connect"]

PREFETCH_ROWS = 500
"""Rows fetched with the statement itself; a larger result fetches the rest when asked."""

_Outcome = tuple[Any, int, int | None, list[Any], sqlite3.Cursor | None]
"""description, rowcount, lastrowid, rows fetched, the cursor when rows are left (else None)."""


def connect(*args: Any, **kwargs: Any) -> OneHopConnection:
    """`aiosqlite.connect(...)` with `OneHopConnection`: `sqlite3.connect`'s arguments."""
    return OneHopConnection(partial(sqlite3.connect, *args, **kwargs), iter_chunk_size=64)


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose `cursor()` runs each statement in one hand-off.

    `begin(statement)` does not hand off at all: the BEGIN runs on the thread just before the
    transaction's first statement, in that statement's hand-off (SQLite takes no lock at a
    deferred BEGIN, and an IMMEDIATE one waits for the write lock there, as it would have a
    moment earlier). A transaction that ran no statement ends without a hand-off.
    """

    def __init__(self, connector: Any, iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._pending_begin: str | None = None
        # As SQLAlchemy does for aiosqlite: the worker must not keep the process alive
        # (aiosqlite < 0.22: the connection is itself the thread).
        worker: Any = getattr(self, "_thread", self)
        worker.daemon = True

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    def begin(self, statement: str) -> None:
        """Run `statement` (BEGIN ...) with the next statement, in its hand-off."""
        self._pending_begin = statement

    def forget_begin(self) -> None:
        """Drop a BEGIN no statement followed (the connection goes back to its pool)."""
        self._pending_begin = None

    def take_begin(self) -> str | None:
        """The BEGIN the next statement must run first (once)."""
        statement, self._pending_begin = self._pending_begin, None
        return statement

    async def commit(self) -> None:
        if self.take_begin() is None:  # else no statement ran: nothing began, nothing to end
            await super().commit()

    async def rollback(self) -> None:
        if self.take_begin() is None:
            await super().rollback()

    async def run(self, fn: Any, *args: Any) -> Any:
        """`fn(*args)` on the connection's thread (one hand-off)."""
        queue_on_thread: Any = self._execute  # aiosqlite's own hand-off (untyped)
        return await queue_on_thread(fn, *args)

    def raw(self) -> sqlite3.Connection:
        """The `sqlite3` connection; only on the connection's thread."""
        return self._conn


class OneHopCursor:
    """The DB-API cursor SQLAlchemy's aiosqlite adapter drives, one hand-off per statement."""

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self._open: sqlite3.Cursor | None = None
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def __await__(self) -> Generator[Any, None, OneHopCursor]:
        yield from ()
        return self

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneHopCursor:
        await self.close()
        args = () if parameters is None else parameters
        run = partial(self._run, self._connection.take_begin(), "execute", sql, args)
        self._take(await self._connection.run(run))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneHopCursor:
        await self.close()
        begin = self._connection.take_begin()
        self._take(
            await self._connection.run(partial(self._run, begin, "executemany", sql, parameters))
        )
        return self

    def _run(self, begin: str | None, method: str, sql: str, parameters: Any) -> _Outcome:
        """On the connection's thread: BEGIN when due, execute, prefetch, close when done."""
        cursor = self._connection.raw().cursor()
        try:
            if begin is not None:
                cursor.execute(begin)
            getattr(cursor, method)(sql, parameters)
        except BaseException:
            cursor.close()
            raise
        return _drain(cursor, PREFETCH_ROWS)

    def _take(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, rows, self._open = outcome
        self._rows.extend(rows)

    async def fetchone(self) -> Any:
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        wanted = self.arraysize if size is None else size
        if len(self._rows) < wanted and self._open is not None:
            more = partial(_drain, self._open, wanted - len(self._rows))
            self._take(await self._connection.run(more))
        return [self._rows.popleft() for _ in range(min(wanted, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        if self._open is not None:
            self._take(await self._connection.run(partial(_drain, self._open, None)))
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[Any]:
        while rows := await self.fetchmany(PREFETCH_ROWS):
            for row in rows:
                yield row

    async def close(self) -> None:
        self._rows.clear()
        cursor, self._open = self._open, None
        if cursor is not None:
            await self._connection.run(cursor.close)


def _drain(cursor: sqlite3.Cursor, limit: int | None) -> _Outcome:
    """On the connection's thread: up to `limit` rows (all for None); close when exhausted."""
    rows: Sequence[Any] = []
    left: sqlite3.Cursor | None = None
    if cursor.description is not None:
        rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        if limit is not None and len(rows) == limit:
            left = cursor
    outcome = (cursor.description, cursor.rowcount, cursor.lastrowid, list(rows), left)
    if left is None:
        cursor.close()
    return outcome
