"""The request's unit of work, ended by pure ASGI middleware rather than a `yield` dependency.

FastAPI has moved the exit code of `yield` dependencies before and after the response more
than once; this middleware pins the order: the sessions a request opened are committed just
before the response starts (a 2xx/3xx) or rolled back (an error status or an exception), and
closed and retired once its body is sent, before any background task runs.
A commit that fails turns the response into the matching problem (409, 503) instead.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_db._errors import render, to_problem
from faster_db.session import REQUEST_ENDED, has_work, in_transaction, needs_commit, retire

__all__ = ["SESSIONS_KEY", "UNIT_KEY", "RequestUnitMiddleware"]

logger = logging.getLogger(__name__)

SESSIONS_KEY = "faster_db.sessions"
"""Where the sessions a request has used are listed in its ASGI scope."""

UNIT_KEY = "faster_db.unit"
"""Where a request's unit of work is in its ASGI scope (what `DBSession` lends sessions from)."""


class RequestUnitMiddleware:
    """Ends the sessions each HTTP request opened through `DBSession`."""

    def __init__(self, app: ASGIApp, retry_after: int = 5) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unit = _Unit(scope, receive, send, self.retry_after)
        scope[UNIT_KEY] = unit
        scope[SESSIONS_KEY] = unit.sessions
        try:
            await self.app(scope, receive, unit.send)
        finally:
            try:
                await unit.abandon()  # an exception, or a response that never finished its body
            finally:
                # The unit refers to the scope, its sessions to the unit: no reference cycle
                # may outlive the request (each would wait for a full garbage collection).
                scope.pop(UNIT_KEY, None)
                unit.sessions.clear()


class _Unit:
    """One request's unit of work: the sessions it built, ended when the response is sent.

    `DBSession` lends `LazySession`s (`lent`); one joins `sessions` when first used. Until
    then there is nothing to end: once the response is sent, `ended` makes building refuse.
    """

    __slots__ = (
        "ended",
        "lent",
        "receive",
        "replaced",
        "retry_after",
        "scope",
        "send_",
        "sessions",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send, retry_after: int) -> None:
        self.scope, self.receive, self.send_ = scope, receive, send
        self.sessions: list[AsyncSession] = []
        self.retry_after = retry_after
        self.ended = False
        self.lent = False
        self.replaced = False

    async def send(self, message: Message) -> None:
        if not self.sessions:  # none used (yet): nothing to commit before this message
            await self.send_(message)
            if self.lent and _is_last(message):
                self.ended = True
            return
        if self.replaced:
            return
        kind = message["type"]
        if (
            kind == "http.response.start"
            and self._pending()
            and not await self._settle(message["status"])
        ):
            return
        await self.send_(message)
        if _is_last(message):
            if self._pending():
                await self._end()
            else:  # no transaction, nothing loaded: nothing to close, only to retire
                self.ended = True
                for session in self.sessions:
                    retire(session, REQUEST_ENDED)

    def _pending(self) -> bool:
        """Whether a session has a transaction, changes or loaded objects (no I/O)."""
        return any(map(has_work, self.sessions))

    async def _settle(self, status: int) -> bool:
        """Commit (success) or roll back (error status); False when the response was replaced."""
        if status >= 400:
            await self._rollback()
            return True
        try:
            for session in self.sessions:
                if needs_commit(session):
                    await session.commit()
        except Exception as exc:
            await self._rollback()
            problem = to_problem(exc, self.retry_after)
            if problem is None:
                raise
            self.replaced = True
            await render(self.scope, problem)(self.scope, self.receive, self.send_)
            await self._end()
            return False
        return True

    async def _rollback(self) -> None:
        for session in self.sessions:
            if in_transaction(session):
                try:
                    await asyncio.shield(session.rollback())
                except (
                    SQLAlchemyError,
                    OSError,
                ) as exc:  # a lost connection cannot roll back; it is discarded
                    logger.warning("rollback failed: %s", type(exc).__name__)

    async def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        for session in self.sessions:
            try:
                if has_work(session):
                    await asyncio.shield(session.close())
            except (
                SQLAlchemyError,
                OSError,
            ) as exc:  # closing releases the connection; a dead one is dropped
                logger.warning("closing a request session failed: %s", type(exc).__name__)
            finally:
                retire(session, REQUEST_ENDED)

    async def abandon(self) -> None:
        """Roll back and end whatever is still open (an exception, or no final body)."""
        if self.sessions and not self.ended:
            await self._rollback()
            await self._end()
        self.ended = True


def _is_last(message: Message) -> bool:
    return message["type"] == "http.response.body" and not message.get("more_body", False)
