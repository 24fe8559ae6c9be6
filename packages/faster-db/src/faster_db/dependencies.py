"""FastAPI dependencies: the request's sessions and background tasks with their own session.

@router.post("/users")
async def create(body: NewUser, session: DBSession, tasks: DBTasks) -> UserOut:
    user = await Repository(session, User).create(email=body.email)
    tasks.run_in_background(send_welcome, user.id)   # send_welcome(session, user_id)
    return UserOut.model_validate(user)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Concatenate, ParamSpec

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from faster_core import ConfigurationError
from faster_db._guard import refuse_bound_arguments
from faster_db.database import Database
from faster_db.middleware import SESSIONS_KEY

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


def _open(request: Request, readonly: bool) -> AsyncSession:
    sessions = request.scope.get(SESSIONS_KEY)
    if sessions is None:
        raise ConfigurationError(
            "DBSession needs the db plugin's RequestUnitMiddleware: create the app with the "
            "'db' plugin enabled"
        )
    # Safe methods do not write by contract: on SQLite their units begin DEFERRED and read
    # alongside writers; unsafe ones take the write lock at BEGIN (see Database.session).
    immediate = request.scope["method"] not in SAFE_METHODS
    session = get_database(request).session(readonly=readonly, immediate=immediate)
    sessions.append(session)
    return session


async def _read_write_session(request: Request) -> AsyncSession:
    return _open(request, readonly=False)


async def _read_only_session(request: Request) -> AsyncSession:
    return _open(request, readonly=True)


def db_session(*, readonly: bool = False) -> Callable[[Request], Awaitable[AsyncSession]]:
    """The dependency behind `DBSession` / `ReadOnlyDBSession`: `Depends(db_session(...))`."""
    return _read_only_session if readonly else _read_write_session


DBSession = Annotated[AsyncSession, Depends(_read_write_session)]
"""The request's session on the primary: committed before a 2xx/3xx response starts, rolled
back on an error status or an exception, closed before background tasks run. It connects only
when first used. On SQLite, in POST/PUT/PATCH/DELETE requests its transaction begins IMMEDIATE;
in GET/HEAD/OPTIONS, DEFERRED."""

ReadOnlyDBSession = Annotated[AsyncSession, Depends(_read_only_session)]
"""The request's read-only session: reads from a replica when configured (the primary
otherwise); from its first write on it uses the primary."""


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
