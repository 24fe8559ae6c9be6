"""Translate SQLAlchemy and driver errors into the suite's problems, at the boundary."""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc
from starlette.responses import Response
from starlette.types import Scope

from faster_core import ProblemError, problem_response
from faster_db.exceptions import (
    DatabaseUnavailableError,
    PoolTimeoutError,
    RecordConflictError,
)

__all__ = ["render", "to_problem"]

logger = logging.getLogger(__name__)

UNAVAILABLE = "The database is unavailable; retry later."
POOL_TIMEOUT = "The database is busy: no connection became free in time; retry later."
CONFLICT = "The change conflicts with existing data."


def to_problem(exc: BaseException, retry_after: int) -> ProblemError | None:
    """The problem `exc` stands for, or `None` when it is a bug that must stay a 500.

    Pool timeouts and lost or refused connections (including the bare `OSError`,
    `TimeoutError` and `ConnectionRefusedError` asyncpg raises when the server dies) become
    503s; constraint violations 409s. The detail is ours: never SQL, never the driver's text.
    """
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, sa_exc.TimeoutError):
        logger.warning("database pool timed out: %s", exc)
        return PoolTimeoutError(POOL_TIMEOUT, retry_after=retry_after)
    if isinstance(exc, sa_exc.IntegrityError):
        return RecordConflictError(CONFLICT)
    if _is_outage(exc):
        logger.warning("database unavailable: %s: %s", type(exc).__name__, _first_line(exc))
        return DatabaseUnavailableError(UNAVAILABLE, retry_after=retry_after)
    return None


OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})
"""PostgreSQL SQLSTATE classes of an outage: connection exception, insufficient resources
(too many connections), operator intervention (statement timeout, shutdown, starting up)."""


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
            or (_sqlstate(exc.orig) or "")[:2] in OUTAGE_SQLSTATE_CLASSES
        )
    return isinstance(exc, OSError | sa_exc.DisconnectionError)


def _sqlstate(error: BaseException | None) -> str | None:
    while error is not None:
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str):
            return code
        error = error.__cause__
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def render(scope: Scope, problem: ProblemError) -> Response:
    """`problem` as the errors plugin renders it."""
    return problem_response(
        scope,
        problem.status,
        detail=problem.detail,
        title=problem.title,
        type_=f"urn:faster:problem:{problem.type_slug}",
        headers=problem.headers,
    )
