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
from faster_db.session import needs_commit, retire

__all__ = ["SESSIONS_KEY", "RequestUnitMiddleware"]

logger = logging.getLogger(__name__)

SESSIONS_KEY = "faster_db.sessions"
"""Where a request's sessions are listed in its ASGI scope."""

REQUEST_ENDED = (
    "the request that opened this session has ended; a background task must open its own "
    "session (use DBTasks.run_in_background or Database.session_scope)"
)


class RequestUnitMiddleware:
    """Ends the sessions each HTTP request opened through `DBSession`."""

    def __init__(self, app: ASGIApp, retry_after: int = 5) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sessions: list[AsyncSession] = []
        scope[SESSIONS_KEY] = sessions
        unit = _Unit(scope, receive, send, sessions, self.retry_after)
        try:
            await self.app(scope, receive, unit.send)
        except BaseException:
            await unit.abandon()
            raise
        await unit.abandon()  # a response that never finished its body


class _Unit:
    __slots__ = ("ended", "receive", "replaced", "retry_after", "scope", "send_", "sessions")

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        sessions: list[AsyncSession],
        retry_after: int,
    ) -> None:
        self.scope, self.receive, self.send_ = scope, receive, send
        self.sessions = sessions
        self.retry_after = retry_after
        self.ended = False
        self.replaced = False

    async def send(self, message: Message) -> None:
        if not self.sessions:
            await self.send_(message)
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
        if kind == "http.response.body" and not message.get("more_body", False):
            if self._pending():
                await self._end()
            else:  # never used: nothing to close, only to retire
                self.ended = True
                for session in self.sessions:
                    retire(session, REQUEST_ENDED)

    def _pending(self) -> bool:
        """Whether a session has a transaction, changes or loaded objects (no I/O)."""
        return any(needs_commit(s) or s.sync_session.identity_map for s in self.sessions)

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
            if session.sync_session.in_transaction():
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
                if needs_commit(session) or session.sync_session.identity_map:
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
