"""Bans and "sign out everywhere" take effect on the next request, on every worker, within 1 s.

Each authenticated request asks whether the token's user may still act: not banned or
deactivated, and the token issued after the user's `tokens_valid_after`. The answer comes from
the database, cached per subject in the process for `FASTER_AUTH_STATUS_CACHE_TTL` (at most
1 s), so a change made by any worker is seen everywhere within that time while a steady stream
of requests costs one query per user per second. Concurrent misses for one subject share one
query. A subject with no row in the user store (a token minted for a service, or by your own
tests) is not restricted: deleting a user is not a revocation, banning is.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from faster_auth._refresh_ahead import RefreshAhead
from faster_auth.exceptions import InvalidTokenError
from faster_auth.models import User, UserStatus
from faster_db import Database

__all__ = ["UserGate"]


@dataclass(frozen=True, slots=True)
class _Standing:
    active: bool
    valid_after: int | None
    checked_at: float


class UserGate:
    """Refuses tokens of users who are no longer active or whose tokens were revoked."""

    def __init__(
        self,
        issuer: str,
        ttl: float,
        *,
        max_entries: int = 65536,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._cache: dict[str, _Standing] = {}
        self._inflight: dict[str, asyncio.Future[_Standing]] = {}
        self._forgets = 0
        self.ahead = RefreshAhead()

    async def check(self, database: Database, subject: str, issued_at: int) -> None:
        standing = self._cache.get(subject)
        if standing is None or self._clock() - standing.checked_at >= self._ttl:
            standing = await self._refresh(database, subject)
        if not standing.active:
            raise InvalidTokenError("user not active")
        # `iat` has whole seconds: tokens issued in the revoking second itself stay valid, or a
        # sign-in right after "sign out everywhere" would get a token refused forever.
        if standing.valid_after is not None and issued_at < standing.valid_after:
            raise InvalidTokenError("token revoked")

    def admits(self, database: Database, subject: str, issued_at: int) -> bool:
        """Whether the cached standing admits the token now; `False` means "ask `check`".

        A standing past half its TTL is renewed in the background meanwhile.
        """
        standing = self._cache.get(subject)
        if standing is None or not standing.active:
            return False
        age = self._clock() - standing.checked_at
        if age >= self._ttl:
            return False
        if age >= self._ttl / 2 and subject not in self._inflight:
            self.ahead.start(subject, lambda: self._refresh(database, subject))
        return standing.valid_after is None or issued_at >= standing.valid_after

    def forget(self, subject: str) -> None:
        """Drop the cached standing (this worker sees its own change at once)."""
        self._cache.pop(subject, None)
        self._forgets += 1  # a look-up already running may have read the old standing

    async def _refresh(self, database: Database, subject: str) -> _Standing:
        pending = self._inflight.get(subject)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Standing] = asyncio.get_running_loop().create_future()
        self._inflight[subject] = future
        forgets = self._forgets
        try:
            standing = await self._load(database, subject)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, none may be left to
            raise
        else:
            future.set_result(standing)
            if forgets == self._forgets:
                self._remember(subject, standing)
            return standing
        finally:
            del self._inflight[subject]

    async def _load(self, database: Database, subject: str) -> _Standing:
        # Stamped before the query: an answer read just before a change committed must not be
        # trusted for a full TTL after it.
        now = self._clock()
        async with database.session_scope(readonly=True) as session:
            row = (
                await session.execute(
                    select(User.status, User.tokens_valid_after).where(
                        User.issuer == self._issuer, User.subject == subject
                    )
                )
            ).first()
        if row is None:
            return _Standing(True, None, now)
        return _Standing(row.status == UserStatus.ACTIVE, _timestamp(row.tokens_valid_after), now)

    def _remember(self, subject: str, standing: _Standing) -> None:
        if len(self._cache) >= self._max_entries:
            del self._cache[next(iter(self._cache))]
        self._cache[subject] = standing


def _timestamp(value: datetime | None) -> int | None:
    return None if value is None else math.floor(value.timestamp())
