"""The audit trail: security events recorded off the request path, written in batches.

`AuditTrail.record` never waits: it puts the event on a bounded in-memory queue and returns. A
background writer, started in the plugin's lifespan, takes whatever has queued up (at most
`FASTER_AUTH_AUDIT_BATCH_SIZE` rows) and inserts it in one statement with its own session, so a
burst of sign-ins costs one write, not one each. When the queue is full the event is dropped,
counted (`dropped`) and logged: auditing never blocks or fails a request. On shutdown the
writer drains the queue before the database closes.

What an event holds is chosen here, never copied wholesale from a request: its type and
outcome, the user and actor ids, the request id, the client IP (the sign-in limits' own
`throttle.client_ip`: the right-most untrusted `X-Forwarded-For` hop when the peer is one of
`FASTER_AUTH_TRUSTED_PROXIES`), the user agent
(truncated) and a small `detail` dict. Keys of `detail` that name a credential are removed, so
a token, password or query string cannot be stored by mistake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from starlette.types import Scope

from faster_auth.models import AuditEvent
from faster_auth.throttle import TrustedProxies, client_ip
from faster_core import current_request_id
from faster_db import Database, utcnow

__all__ = ["AuditEntry", "AuditTrail", "AuditType", "ClientInfo", "Outcome", "client_info"]

logger = logging.getLogger(__name__)

USER_AGENT_LENGTH = 256
_SECRET_WORDS = ("password", "token", "secret", "query", "link", "authorization", "cookie")


class AuditType:
    """The event types faster-auth records (the `type` column)."""

    REGISTER = "register"
    LOGIN = "login"
    REFRESH_REUSE = "refresh_reuse_detected"
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - an event name
    PASSWORD_RESET_REQUEST = "password_reset_request"  # noqa: S105 - an event name
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event name
    VERIFICATION_REQUEST = "email_verification_request"
    VERIFICATION = "email_verification"
    DEACTIVATE = "deactivate"
    BAN = "ban"
    UNBAN = "unban"
    ROLES_CHANGE = "roles_change"


class Outcome:
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Who sent a request: IP (proxy-aware) and user agent (truncated)."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event as queued; becomes one `faster_auth_audit_events` row."""

    type: str
    outcome: str
    user_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    client: ClientInfo = ClientInfo()
    request_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)

    def row(self) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "occurred_at": self.occurred_at,
            "type": self.type,
            "outcome": self.outcome,
            "user_id": self.user_id,
            "actor_id": self.actor_id,
            "request_id": None if self.request_id is None else self.request_id[:128],
            "ip": self.client.ip,
            "user_agent": self.client.user_agent,
            "detail": _scrub(self.detail),
        }


def _scrub(detail: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in detail.items()
        if not any(word in key.lower() for word in _SECRET_WORDS)
    }


def client_info(scope: Scope, trusted_proxies: TrustedProxies) -> ClientInfo:
    """The client of `scope`: its IP as the sign-in limits see it, and its user agent."""
    user_agent = None
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            user_agent = value.decode("latin-1")[:USER_AGENT_LENGTH]
            break
    ip = client_ip(scope, trusted_proxies)
    return ClientInfo(None if ip == "unknown" else ip[:45], user_agent)


class AuditTrail:
    """A bounded queue of audit entries and the background writer that stores them."""

    def __init__(self, database: Database, *, queue_size: int, batch_size: int) -> None:
        self._database = database
        self._queue: asyncio.Queue[AuditEntry] = asyncio.Queue(queue_size)
        self._batch_size = batch_size
        self._writer: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.dropped = 0
        self.written = 0
        self.failed = 0

    def record(
        self,
        type: str,
        outcome: str,
        *,
        user_id: uuid.UUID | None = None,
        actor_id: uuid.UUID | None = None,
        client: ClientInfo | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue one event (never waits); when the queue is full it is dropped and counted."""
        entry = AuditEntry(
            type,
            outcome,
            user_id,
            actor_id,
            client or ClientInfo(),
            current_request_id(),
            dict(detail or {}),
        )
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.dropped += 1
            logger.warning(
                "audit queue full: dropped a %s event (%s dropped so far)", type, self.dropped
            )
            return
        self._idle.clear()

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._run(), name="faster-auth-audit")

    async def flush(self) -> None:
        """Wait until every event queued so far is written (or has failed to be)."""
        while not self._queue.empty() or not self._idle.is_set():
            await self._idle.wait()

    async def stop(self) -> None:
        """Write what is queued, then stop the writer."""
        if self._writer is None:
            return
        await self.flush()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)
            if self._queue.empty():
                self._idle.set()

    async def _write(self, batch: list[AuditEntry]) -> None:
        try:
            async with self._database.session_scope() as session:
                await session.execute(insert(AuditEvent), [entry.row() for entry in batch])
        except Exception:
            # The writer's boundary: a failed batch is reported and counted, the writer goes on.
            self.failed += len(batch)
            logger.exception("could not write %s audit event(s)", len(batch))
        else:
            self.written += len(batch)
