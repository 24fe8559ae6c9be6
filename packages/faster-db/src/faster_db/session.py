"""Sessions that route reads and writes, are built on first use, and refuse to be used after
their unit of work ends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Delete, Insert, Update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from faster_db.exceptions import SessionMisuseError

if TYPE_CHECKING:
    from faster_db.database import Database

__all__ = [
    "REQUEST_ENDED",
    "LazySession",
    "LendingUnit",
    "RoutingSession",
    "has_work",
    "in_transaction",
    "needs_commit",
    "retire",
]

REQUEST_ENDED = (
    "the request that opened this session has ended; a background task must open its own "
    "session (use DBTasks.run_in_background or Database.session_scope)"
)

# The instance attributes `AsyncSession.__init__` sets; every path from an `AsyncSession` to its
# `Session` (methods, properties, `_translate_binds`) reads one of them.
_BUILT_ON_FIRST_USE = frozenset({"sync_session", "_proxied", "_async_bind", "_async_binds"})


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


class LendingUnit(Protocol):
    """What a `LazySession` needs of the unit of work that lent it (`RequestUnitMiddleware`)."""

    ended: bool
    sessions: list[AsyncSession]


class LazySession(AsyncSession):
    """An `AsyncSession` whose `Session` is built on first use (what `DBSession` hands out).

    Creating it costs one small object: a route that declares a session and never touches it
    does not pay for a `Session` (identity map, transaction state, weak references). The first
    access to anything that reaches the `Session` runs `AsyncSession.__init__` and lists the
    session in its unit, which ends it with the request; from then on it is an ordinary
    `AsyncSession` whose attributes are plain instance attributes. Once its unit has ended
    (or it was retired) it refuses to be built.
    """

    _faster_retired: str | None = None

    def __init__(
        self, unit: LendingUnit | None, database: Database, readonly: bool, immediate: bool
    ) -> None:
        # AsyncSession.__init__ is deliberately not called: _build() runs it on first use.
        self._faster_unit = unit
        self._faster_database = database
        self._faster_readonly = readonly
        self._faster_immediate = immediate

    def __getattr__(self, name: str) -> Any:
        if name not in _BUILT_ON_FIRST_USE:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self._build()
        return self.__dict__[name]

    def _build(self) -> None:
        unit = self._faster_unit
        if unit is not None and unit.ended:
            self._faster_retired = REQUEST_ENDED
        if self._faster_retired is not None:
            raise SessionMisuseError(self._faster_retired)
        options = self._faster_database._session_options(
            readonly=self._faster_readonly, immediate=self._faster_immediate
        )
        AsyncSession.__init__(self, **options)
        if unit is not None:
            unit.sessions.append(self)


def _built(session: AsyncSession) -> Session | None:
    """`session`'s `Session`, or None for a lazy session never used (no I/O, builds nothing)."""
    sync: Session | None = session.__dict__.get("sync_session")
    return sync


def needs_commit(session: AsyncSession) -> bool:
    """Whether ending `session`'s unit has anything to commit or release (no I/O).

    Reads the session's private pending/deleted/modified collections: the public `new`,
    `dirty` and `deleted` build a set on every call, on the path of every request.
    """
    sync = _built(session)
    return sync is not None and bool(
        sync._transaction is not None or sync._new or sync._deleted or sync.identity_map._modified
    )


def has_work(session: AsyncSession) -> bool:
    """Whether `session` has a transaction, changes or loaded objects to end (no I/O)."""
    sync = _built(session)
    return sync is not None and bool(
        sync._transaction is not None
        or sync._new
        or sync._deleted
        or sync.identity_map._modified
        or sync.identity_map
    )


def in_transaction(session: AsyncSession) -> bool:
    """Whether `session` has begun a transaction (False for a lazy session never used)."""
    sync = _built(session)
    return sync is not None and sync.in_transaction()


def retire(session: AsyncSession, why: str) -> None:
    """Make every later use of `session` raise `SessionMisuseError(why)`."""
    if isinstance(session, LazySession):
        session._faster_retired = why
    sync = _built(session)
    if isinstance(sync, RoutingSession):
        sync._faster_retired = why
