"""Revoked access tokens: per token (`jti`, until its `exp`) and per user ("issued before T").

Where revocations live:

- with the redis plugin enabled, in Redis, shared by every worker and host: one key per revoked
  `jti` that expires with the token (never one global set whose TTL resets on every add), and
  one key per user holding the cut-off instant, kept `FASTER_AUTH_REVOCATION_USER_RETENTION`
  seconds; the user cut-off is also written to `users.tokens_valid_after`;
- otherwise in the database: the `faster_auth_revoked_tokens` table and the users' own
  `tokens_valid_after` (checked by `UserGate`).

Every authenticated request is checked. Answers are cached per token in the process for at most
`FASTER_AUTH_REVOCATION_CACHE_TTL` (<= 1 s); with Redis, each revocation is also published on a
pub/sub channel and every worker drops its cached answers at once. While that subscription is
down the cache is bypassed, so a missed message can never keep a revoked token alive.

When the store cannot answer, `FASTER_AUTH_REVOCATION_FAILURE` decides: `closed` (default) is a
503 problem with `Retry-After` on every protected route; `open` serves without the check, logs it
and counts it. A 500 is never the answer, and a token known to be revoked is never accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, select, update

from faster_auth._refresh_ahead import RefreshAhead
from faster_auth.exceptions import (
    AuthConfigurationError,
    InvalidTokenError,
    RevocationUnavailableError,
)
from faster_auth.models import RefreshToken, RevokedToken, User
from faster_auth.outcomes import AuthOutcomes
from faster_auth.tokens import VerifiedToken
from faster_auth.user_status import UserGate
from faster_db import Database, Repository, utcnow

if TYPE_CHECKING:
    from faster_redis import RedisService

__all__ = [
    "CHANNEL",
    "DatabaseRevocationStore",
    "NoRevocationStore",
    "RedisRevocationStore",
    "RevocationStore",
    "RevocationStoreUnavailable",
    "Revocations",
]

logger = logging.getLogger(__name__)

CHANNEL = "auth-revocations"
"""The pub/sub channel (under `FASTER_REDIS_PREFIX`) carrying revocations to every worker."""


class RevocationStoreUnavailable(Exception):  # noqa: N818 - internal signal, never leaves here
    """The store could not answer (the cause is chained)."""


class RevocationStore(Protocol):
    """Where revocations are kept; `lookup` is the per-request question."""

    async def revoke_token(self, jti: str, expires_at: int) -> None: ...

    async def revoke_user(self, issuer: str, subject: str, after: datetime) -> None: ...

    async def lookup(self, jti: str | None, subject: str) -> tuple[bool, int | None]:
        """Whether `jti` is revoked, and the user's cut-off (tokens issued before are revoked)."""
        ...


class DatabaseRevocationStore:
    """Revocations in the app's database (the redis plugin is off)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def revoke_token(self, jti: str, expires_at: int) -> None:
        expiry = datetime.fromtimestamp(expires_at, UTC)
        async with self.database.session_scope() as session:
            await Repository(session, RevokedToken).upsert(
                {"jti": jti, "expires_at": expiry}, conflict_on=["jti"], update=[]
            )
            # A token past its `exp` is refused anyway: its row has done its work.
            await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))

    async def revoke_user(self, issuer: str, subject: str, after: datetime) -> None:
        await _revoke_in_user_store(self.database, issuer, subject, after)

    async def lookup(self, jti: str | None, subject: str) -> tuple[bool, int | None]:
        if jti is None:
            return False, None  # the user's cut-off is `UserGate`'s question
        async with self.database.session_scope(readonly=True) as session:
            found = await session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti))
        return found is not None, None


class NoRevocationStore:
    """Verify-only mode with neither Redis nor a database: nothing is revoked, and revoking
    is refused with an error naming what to enable."""

    async def revoke_token(self, jti: str, expires_at: int) -> None:
        raise AuthConfigurationError(_NO_STORE)

    async def revoke_user(self, issuer: str, subject: str, after: datetime) -> None:
        raise AuthConfigurationError(_NO_STORE)

    async def lookup(self, jti: str | None, subject: str) -> tuple[bool, int | None]:
        return False, None


_NO_STORE = "revoking tokens needs a store: enable the 'redis' or the 'db' plugin"


class RedisRevocationStore:
    """Revocations in Redis, through the redis plugin's service (breaker, timeout, prefix)."""

    def __init__(self, service: RedisService, database: Database | None, retention: int) -> None:
        from faster_redis import RedisError, RedisUnavailableError  # noqa: PLC0415 - optional

        self.service = service
        self.database = database
        self.retention = retention
        self._errors: tuple[type[Exception], ...] = (RedisError, RedisUnavailableError)

    def _jti_key(self, jti: str) -> str:
        return self.service.key("auth", "revoked-jti", jti)

    def _user_key(self, subject: str) -> str:
        return self.service.key("auth", "revoked-user", subject)

    async def _execute(self, operation: Callable[[Any], Any]) -> Any:
        try:
            return await self.service.execute(operation)
        except self._errors as exc:
            raise RevocationStoreUnavailable from exc

    async def revoke_token(self, jti: str, expires_at: int) -> None:
        ttl = max(1, expires_at - math.floor(time.time()) + 1)
        await self._execute(lambda client: client.set(self._jti_key(jti), "1", ex=ttl))

    async def revoke_user(self, issuer: str, subject: str, after: datetime) -> None:
        cutoff = str(math.floor(after.timestamp()))
        key, ttl = self._user_key(subject), self.retention
        await self._execute(lambda client: client.set(key, cutoff, ex=ttl))
        if self.database is not None:
            await _revoke_in_user_store(self.database, issuer, subject, after)

    async def lookup(self, jti: str | None, subject: str) -> tuple[bool, int | None]:
        keys = [self._user_key(subject)] + ([self._jti_key(jti)] if jti is not None else [])
        values = await self._execute(lambda client: client.mget(keys))
        cutoff = None if values[0] is None else int(values[0])
        return len(values) > 1 and values[1] is not None, cutoff

    async def publish(self, payload: dict[str, str]) -> None:
        from faster_redis import Event  # noqa: PLC0415 - the redis plugin is optional

        event = Event(type="auth.revoked", payload=payload)
        with contextlib.suppress(*self._errors):  # the stored revocation already holds
            await self.service.events.publish(CHANNEL, event)


async def _revoke_in_user_store(
    database: Database, issuer: str, subject: str, after: datetime
) -> None:
    async with database.session_scope() as session:
        user_id = await session.scalar(
            update(User)
            .where(User.issuer == issuer, User.subject == subject)
            .values(tokens_valid_after=after)
            .returning(User.id)
        )
        if user_id is not None:  # no refresh token may mint new access tokens either
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=after)
            )


@dataclass(frozen=True, slots=True)
class _Answer:
    revoked: bool
    cutoff: int | None
    checked_at: float


class Revocations:
    """The per-request revocation check and the `revoke_*` API, for one app."""

    def __init__(
        self,
        store: RevocationStore,
        *,
        issuer: str,
        users: UserGate | None = None,
        ttl: float = 1.0,
        fail_open: bool = False,
        retry_after: int = 5,
        max_entries: int = 65536,
        clock: Callable[[], float] = time.monotonic,
        outcomes: AuthOutcomes | None = None,
    ) -> None:
        self.store = store
        self.outcomes = outcomes if outcomes is not None else AuthOutcomes()
        self.issuer = issuer
        self.users = users
        self.ttl = ttl
        self.fail_open = fail_open
        self.retry_after = retry_after
        self.unavailable_open = 0
        """How many checks were served without an answer (policy `open`)."""
        self._max_entries = max_entries
        self._clock = clock
        self._cache: dict[str, _Answer] = {}
        self._inflight: dict[str, asyncio.Future[_Answer | None]] = {}
        self._subscribed: asyncio.Event | None = None
        """With Redis: set while the invalidation channel is subscribed."""
        self._clears = 0
        self.ahead = RefreshAhead()

    async def check(self, token: VerifiedToken) -> None:
        """Raise `InvalidTokenError` when `token` is revoked (503 when the store cannot say)."""
        key = token.token_id or "\0" + token.subject
        answer = self._cache.get(key)
        if answer is not None and answer.revoked:
            raise InvalidTokenError("token revoked")  # known here: whatever the store's state
        if answer is None or self._clock() - answer.checked_at >= self.ttl or not self.coherent:
            answer = await self._refresh(key, token)
            if answer is None:
                return  # the store is down and the policy is to serve
        if answer.revoked or (answer.cutoff is not None and token.issued_at < answer.cutoff):
            raise InvalidTokenError("token revoked")

    def admits(self, token: VerifiedToken) -> bool:
        """Whether a fresh cached answer clears `token`; `False` means "ask `check`".

        An answer past half its TTL is renewed in the background meanwhile.
        """
        key = token.token_id or "\0" + token.subject
        answer = self._cache.get(key)
        if answer is None or answer.revoked:
            return False
        subscribed = self._subscribed
        if subscribed is not None and not subscribed.is_set():
            return False
        age = self._clock() - answer.checked_at
        if age >= self.ttl:
            return False
        if age >= self.ttl / 2 and key not in self._inflight:
            self.ahead.start(key, lambda: self._refresh(key, token))
        return answer.cutoff is None or token.issued_at >= answer.cutoff

    @property
    def coherent(self) -> bool:
        """Whether cached answers may be used: always with the database; with Redis, while the
        invalidation channel is subscribed (a message missed during a gap cannot keep a revoked
        token alive: nothing is served from the cache until the channel is back, and entries
        from before the gap are at most the TTL old)."""
        subscribed = self._subscribed
        return subscribed is None or subscribed.is_set()

    async def revoke_token(self, jti: str, expires_at: int) -> None:
        """Refuse the token `jti` from now on, on every worker, until `expires_at` (epoch s)."""
        await self._write(self.store.revoke_token(jti, expires_at))
        self._mark_revoked(jti)  # this worker: at once
        self.outcomes.revoked("token")
        await self._publish({"jti": jti})
        logger.info("revoked one access token")

    async def revoke_user_tokens(self, subject: str) -> None:
        """Refuse every token of `subject` issued so far (tokens of the current second pass:
        `iat` has whole seconds) and revoke their refresh tokens."""
        await self._write(self.store.revoke_user(self.issuer, subject, utcnow()))
        self.forget_user(subject)
        self.outcomes.revoked("user")
        await self._publish({"sub": subject})
        logger.info("revoked the tokens of user %s", subject)

    def forget_user(self, subject: str) -> None:
        """Drop what this worker cached about `subject` (and every token: they are not indexed
        by user, and user-wide revocations are rare)."""
        self._cache.clear()
        self._clears += 1  # look-ups already running may have read the old state
        if self.users is not None:
            self.users.forget(subject)

    def receive(self, payload: dict[str, Any]) -> None:
        """Apply a revocation published by another worker."""
        jti, subject = payload.get("jti"), payload.get("sub")
        if isinstance(jti, str):
            self._mark_revoked(jti)
        if isinstance(subject, str):
            self.forget_user(subject)

    @contextlib.asynccontextmanager
    async def listening(self, ready_within: float = 2.0) -> AsyncIterator[None]:
        """Keep the cache coherent with other workers while the block runs (Redis only)."""
        store = self.store
        if not isinstance(store, RedisRevocationStore):
            yield
            return
        subscription = store.service.events.subscribe(CHANNEL)
        self._subscribed = subscription.ready
        task = asyncio.create_task(self._listen(subscription), name="faster-auth-revocations")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ready_within):
                await subscription.ready.wait()
        try:
            yield
        finally:
            self._subscribed = None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self, subscription: Any) -> None:
        async for event in subscription:
            self.receive(event.payload)

    async def _refresh(self, key: str, token: VerifiedToken) -> _Answer | None:
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Answer | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        clears = self._clears
        try:
            answer = await self._load(token)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, none may be left to
            raise
        else:
            future.set_result(answer)
            if answer is not None and clears == self._clears:
                self._remember(key, answer)
            return answer
        finally:
            del self._inflight[key]

    async def _load(self, token: VerifiedToken) -> _Answer | None:
        # Stamped before the look-up: an answer read just before a revocation committed must
        # not be trusted for a full TTL after it.
        started = self._clock()
        try:
            revoked, cutoff = await self.store.lookup(token.token_id, token.subject)
        except RevocationStoreUnavailable as exc:
            if not self.fail_open:
                raise self._unavailable() from exc
            self.unavailable_open += 1
            logger.warning("revocations unavailable: serving without the check (policy open)")
            return None
        return _Answer(revoked, cutoff, started)

    def _mark_revoked(self, jti: str) -> None:
        self._cache.pop(jti, None)
        self._store_answer(jti, _Answer(True, None, math.inf))

    def _store_answer(self, key: str, answer: _Answer) -> None:
        if len(self._cache) >= self._max_entries:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = answer

    def _remember(self, key: str, answer: _Answer) -> None:
        if self.coherent:
            cached = self._cache.get(key)
            if cached is not None and cached.revoked:
                return  # a revocation received while the look-up ran wins
            self._store_answer(key, answer)

    async def _write(self, operation: Any) -> None:
        try:
            await operation
        except RevocationStoreUnavailable as exc:
            raise self._unavailable() from exc

    async def _publish(self, payload: dict[str, str]) -> None:
        if isinstance(self.store, RedisRevocationStore):
            await self.store.publish(payload)

    def _unavailable(self) -> RevocationUnavailableError:
        return RevocationUnavailableError(
            "Revocations cannot be checked right now.", retry_after=self.retry_after
        )
