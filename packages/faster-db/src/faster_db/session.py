"""Sessions that route reads and writes, and refuse to be used after their unit of work ends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Delete, Insert, Update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from faster_db.exceptions import SessionMisuseError

__all__ = ["RoutingSession", "needs_commit", "retire"]


class RoutingSession(Session):
    """A `Session` bound to a writer and a reader engine.

    A read-write unit uses the writer (the primary) for everything. A read-only unit reads from
    its reader (a replica, or the primary when there is none) until it writes: from its first
    flush or DML statement on, it uses the primary, so it reads its own writes.
    A retired session (its unit of work is over) refuses to connect.
    """

    def __init__(
        self, *, writer: Engine, reader: Engine, readonly: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._faster_writer = writer
        self._faster_reader = reader
        self._faster_reading = readonly
        self._faster_retired: str | None = None

    def get_bind(
        self, mapper: Any = None, *, clause: Any = None, **kwargs: Any
    ) -> Engine | Connection:
        if self._faster_retired is not None:
            raise SessionMisuseError(self._faster_retired)
        if self._faster_reading:
            if not self._flushing and not isinstance(clause, Insert | Update | Delete):
                return self._faster_reader
            self._faster_reading = False
        return self._faster_writer


def needs_commit(session: AsyncSession) -> bool:
    """Whether ending `session`'s unit has anything to commit or release (no I/O).

    Reads the session's private pending/deleted/modified collections: the public `new`,
    `dirty` and `deleted` build a set on every call, on the path of every request.
    """
    sync = session.sync_session
    return bool(
        sync._transaction is not None or sync._new or sync._deleted or sync.identity_map._modified
    )


def retire(session: AsyncSession, why: str) -> None:
    """Make every later use of `session` raise `SessionMisuseError(why)`."""
    sync = session.sync_session
    if isinstance(sync, RoutingSession):
        sync._faster_retired = why
