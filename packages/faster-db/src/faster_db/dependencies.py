"""FastAPI dependencies: the request's sessions and background tasks with their own session.

@router.post("/users")
async def create(body: NewUser, session: DBSession, tasks: DBTasks) -> UserOut:
    user = await Repository(session, User).create(email=body.email)
    tasks.run_in_background(send_welcome, user.id)   # send_welcome(session, user_id)
    return UserOut.model_validate(user)
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Concatenate, ParamSpec

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from faster_core import ConfigurationError
from faster_db._guard import refuse_bound_arguments
from faster_db.database import Database
from faster_db.middleware import UNIT_KEY
from faster_db.session import LazySession

__all__ = [
    "DBBackgroundTasks",
    "DBSession",
    "DBTasks",
    "ReadOnlyDBSession",
    "RequestDatabase",
    "db_session",
    "get_database",
]

if TYPE_CHECKING:
    P = ParamSpec("P")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    """The app's `Database` (the db plugin's lifespan state)."""
    database = request.scope.get("state", {}).get("db") or getattr(request.app.state, "db", None)
    if not isinstance(database, Database):
        raise ConfigurationError("no database: enable the 'db' plugin and run the app's lifespan")
    return database


def _lend(request: Request, readonly: bool) -> AsyncSession:
    """A lazy session of the request's unit of work: no I/O, nothing built until first used."""
    scope = request.scope
    unit = scope.get(UNIT_KEY)
    if unit is None:
        raise ConfigurationError(
            "DBSession needs the db plugin's RequestUnitMiddleware: create the app with the "
            "'db' plugin enabled"
        )
    state = scope.get("state")
    database = state.get("db") if state is not None else None
    if not isinstance(database, Database):
        database = get_database(request)
    unit.lent = True
    # Safe methods do not write by contract: on SQLite their units begin DEFERRED and read
    # alongside writers; unsafe ones take the write lock at BEGIN (see Database.session).
    return LazySession(unit, database, readonly, scope["method"] not in SAFE_METHODS)


async def _read_write_session(request: Request) -> AsyncSession:
    return _lend(request, readonly=False)


async def _read_only_session(request: Request) -> AsyncSession:
    return _lend(request, readonly=True)


def db_session(*, readonly: bool = False) -> Callable[[Request], Awaitable[AsyncSession]]:
    """The dependency behind `DBSession` / `ReadOnlyDBSession`: `Depends(db_session(...))`."""
    return _read_only_session if readonly else _read_write_session


if TYPE_CHECKING:
    DBSession = Annotated[AsyncSession, Depends(_read_write_session)]
else:
    # typing offers no public way to make an Annotated alias callable; FastAPI and
    # typing.get_origin/get_args recognise this subclass as Annotated (tested on 3.11).
    class _SessionAnnotation(typing._AnnotatedAlias, _root=True):
        """`Annotated[AsyncSession, Depends(...)]` that can also be called:
        `DBSession(readonly=True)` is `ReadOnlyDBSession`.

        Type checkers see `DBSession` as the plain `Annotated` alias; the typing spec allows
        no call in an annotation, so under mypy or pyright spell the read-only one
        `ReadOnlyDBSession` (the very same object).
        """

        def __call__(self, *, readonly: bool = False) -> object:
            return ReadOnlyDBSession if readonly else DBSession

    DBSession = _SessionAnnotation(AsyncSession, (Depends(_read_write_session),))
"""The request's session on the primary: committed before a 2xx/3xx response starts, rolled
back on an error status or an exception, closed before background tasks run. It is built on
first use and connects only then. On SQLite, in POST/PUT/PATCH/DELETE requests its transaction
begins IMMEDIATE; in GET/HEAD/OPTIONS, DEFERRED.

`DBSession(readonly=True)` is `ReadOnlyDBSession` (at run time; type checkers accept no call in
an annotation, so typed code writes `ReadOnlyDBSession`)."""

ReadOnlyDBSession = Annotated[AsyncSession, Depends(_read_only_session)]
"""The request's read-only session (`DBSession(readonly=True)`): reads from a replica when
configured (the primary otherwise); from its first write on it uses the primary."""


class DBBackgroundTasks:
    """Background tasks that each run with their own fresh session, after the response."""

    def __init__(self, tasks: BackgroundTasks, database: Database) -> None:
        self._tasks = tasks
        self._database = database

    def run_in_background(
        self,
        fn: Callable[Concatenate[AsyncSession, P], Awaitable[Any]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Schedule `fn(session, *args, **kwargs)` with its own `session_scope()`.

        Raises `SessionMisuseError` now when an argument is a session or an ORM object bound
        to one (pass ids instead): later, that object's session is closed or busy elsewhere.
        """
        refuse_bound_arguments(fn, args, kwargs)
        self._tasks.add_task(self._database.run_with_session, fn, args, kwargs)


async def _db_tasks(request: Request, background_tasks: BackgroundTasks) -> DBBackgroundTasks:
    return DBBackgroundTasks(background_tasks, get_database(request))


async def _request_database(request: Request) -> Database:
    return get_database(request)


DBTasks = Annotated[DBBackgroundTasks, Depends(_db_tasks)]
"""Background tasks with their own sessions: `tasks.run_in_background(fn, *args)`."""

RequestDatabase = Annotated[Database, Depends(_request_database)]
"""The app's `Database`, e.g. for `session_scope()` inside a handler."""
