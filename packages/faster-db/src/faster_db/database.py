"""`Database`: the engines of one app, and the units of work opened on them.

The db plugin creates one in its lifespan (`request.state.db`, `app.state.db`) and disposes of
it at shutdown. Outside a request, open units with `session_scope()` / `transaction()`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from faster_db._engine import build_engine, writer_of
from faster_db._errors import to_problem
from faster_db._guard import refuse_bound_arguments
from faster_db.session import RoutingSession, has_work, in_transaction, needs_commit, retire
from faster_db.settings import DBSettings, redact_url

__all__ = ["Database"]

logger = logging.getLogger(__name__)
if TYPE_CHECKING:
    P = ParamSpec("P")
ENDED = "this session's unit of work has ended; open a new one with session_scope()"


class Database:
    """The primary engine, the replica engines and a session factory routing between them."""

    def __init__(self, settings: DBSettings) -> None:
        self.settings = settings
        self.primary: AsyncEngine = build_engine(settings.url, settings)
        self.replicas: list[AsyncEngine] = [
            build_engine(u, settings) for u in settings.replica_urls
        ]
        self._writer = writer_of(self.primary)
        self._probes = [
            build_engine(url, settings, pooled=False)
            for url in (settings.url, *settings.replica_urls)
        ]
        self._next_replica = itertools.cycle(range(len(self.replicas)))
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"Database({redact_url(self.settings.url)!r}, replicas={len(self.replicas)})"

    @property
    def dialect(self) -> str:
        return self.primary.dialect.name

    def session(self, *, readonly: bool = False, immediate: bool = True) -> AsyncSession:
        """A new session (no connection until first used); you end it. Prefer `session_scope()`.

        `immediate` (SQLite, read-write sessions): begin transactions IMMEDIATE, taking the
        write lock up front so that a unit that reads before it writes waits for the lock
        instead of failing; `False` begins them DEFERRED, as SQLite does by default.
        """
        return AsyncSession(**self._session_options(readonly=readonly, immediate=immediate))

    def _session_options(self, *, readonly: bool, immediate: bool) -> dict[str, Any]:
        """`AsyncSession(**options)` for a session of this database."""
        reader = self.primary
        if readonly and self.replicas:
            reader = self.replicas[next(self._next_replica)]
        writer = self._writer if immediate else self.primary
        return {
            "sync_session_class": RoutingSession,
            "writer": writer.sync_engine,
            "reader": reader.sync_engine,
            "readonly": readonly,
            "expire_on_commit": False,
        }

    @asynccontextmanager
    async def session_scope(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit when the block succeeds, roll back when it raises.

        Database errors leave as the suite's problems (`RecordConflictError`,
        `DatabaseUnavailableError`, ...) with the original as `__cause__`. The session is
        closed and retired at the end: using it afterwards raises `SessionMisuseError`.
        """
        session = self.session(readonly=readonly)
        try:
            yield session
            if needs_commit(session):
                await session.commit()
        except BaseException as exc:
            await _rollback_quietly(session)
            problem = to_problem(exc, self.settings.retry_after)
            if problem is None or problem is exc:
                raise
            raise problem from exc
        finally:
            await _end(session)

    @asynccontextmanager
    async def transaction(self, session: AsyncSession | None = None) -> AsyncIterator[AsyncSession]:
        """A unit of work on its own session, or a SAVEPOINT inside `session`'s transaction.

        In `session`, the block's changes are rolled back alone when it raises; the outer unit
        goes on and decides whether to commit.
        """
        if session is None:
            async with self.session_scope() as own:
                yield own
            return
        async with session.begin_nested():
            yield session

    def run_in_background(
        self,
        fn: Callable[Concatenate[AsyncSession, P], Awaitable[Any]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Task[None]:
        """Run `fn(session, *args, **kwargs)` as a task with its own `session_scope()`.

        Raises `SessionMisuseError` at once when an argument is a session or an ORM object
        bound to one: pass ids, not objects. Tasks still running at shutdown are awaited.
        """
        refuse_bound_arguments(fn, args, kwargs)
        task = asyncio.get_running_loop().create_task(self._run(fn, args, kwargs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run_with_session(
        self,
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        readonly: bool = False,
    ) -> None:
        """`fn(session, *args, **kwargs)` inside a fresh `session_scope()`."""
        async with self.session_scope(readonly=readonly) as session:
            await fn(session, *args, **kwargs)

    async def _run(
        self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        try:
            await self.run_with_session(fn, args, kwargs)
        except Exception:  # a detached task has no caller to raise to: its failure is logged
            logger.exception("background task %s failed", getattr(fn, "__qualname__", fn))

    async def ping(self) -> None:
        """`SELECT 1` on the primary and on every replica, each on a fresh connection (not a
        pooled one: a busy pool is not a down database); raises when one fails."""
        if make_url(self.settings.url).database in (None, "", ":memory:"):
            probes = [self.primary, *self._probes[1:]]
        else:
            probes = self._probes
        for engine in probes:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")

    def pool_status(self) -> dict[str, int]:
        """Connections of the primary's pool: checked out, idle, overflow and capacity."""
        pool: Any = self.primary.pool
        status = {"checked_out": 0, "idle": 0, "overflow": 0, "capacity": 1}
        if hasattr(pool, "checkedout"):
            status.update(
                checked_out=pool.checkedout(),
                idle=pool.checkedin(),
                overflow=max(pool.overflow(), 0),
                capacity=pool.size() + max(getattr(pool, "_max_overflow", 0), 0),
            )
        return status

    async def dispose(self) -> None:
        """Wait for background tasks, then close every pooled connection."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for engine in (self.primary, *self.replicas, *self._probes):
            await engine.dispose()


async def _rollback_quietly(session: AsyncSession) -> None:
    if not in_transaction(session):
        return
    try:
        await asyncio.shield(session.rollback())
    except (SQLAlchemyError, OSError) as exc:  # a dead connection cannot roll back
        logger.warning("rollback failed after an error: %s", type(exc).__name__)


async def _end(session: AsyncSession) -> None:
    try:
        if has_work(session):
            await asyncio.shield(session.close())
    finally:
        retire(session, ENDED)
