"""Sign-in and password-reset limits, per account and per client IP.

Failed sign-ins are counted in a sliding window (`FASTER_AUTH_SIGN_IN_FAILURE_WINDOW`, one hour)
against the submitted email (hashed: the counters hold no address) and against the client's IP.
Once an account has `FASTER_AUTH_SIGN_IN_MAX_FAILURES` (100) failures in the window, or an IP
`FASTER_AUTH_SIGN_IN_MAX_FAILURES_PER_IP` (1000), every further attempt is refused with the
same 429 problem and `Retry-After` before any password is checked, whether or not the account
exists. A password-reset request counts as an attempt in the same way, and so does every
failed password confirmation (change password, deactivate: counted against the signed-in
account and the IP) and every refused reset or verification link (against the IP: a guessed
token names no account).

The client IP is the socket peer; `X-Forwarded-For` is believed only when the peer is one of
`FASTER_AUTH_TRUSTED_PROXIES`, and then only its right-most untrusted hop, so a client rotating
the header gains nothing.

Counters live in Redis (sorted sets under `FASTER_REDIS_PREFIX`, through the redis plugin's
breaker and timeout) when the redis plugin is enabled, and in the `faster_auth_sign_in_failures`
table otherwise. While Redis is down, `FASTER_REDIS_RATELIMIT_LOGIN_FAILURE` decides: `closed`
(the default) answers 503, `open` lets attempts through uncounted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, delete, func, insert, or_, select
from starlette.types import Scope

from faster_auth.exceptions import TooManyAttemptsError
from faster_auth.models import SignInFailure
from faster_core import TrustedProxies, client_ip
from faster_db import Database

if TYPE_CHECKING:
    from faster_redis import RedisService

__all__ = [
    "AttemptCounter",
    "DatabaseAttemptCounter",
    "NoAttemptCounter",
    "RedisAttemptCounter",
    "SignInThrottle",
    "TrustedProxies",
    "client_ip",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Count:
    failures: int
    oldest: float | None


class AttemptCounter(Protocol):
    """Where failures are counted."""

    async def counts(self, keys: Sequence[str], since: float) -> dict[str, _Count]: ...

    async def record(self, keys: Sequence[str], now: float, window: int) -> None: ...


class DatabaseAttemptCounter:
    """Failures as rows of `faster_auth_sign_in_failures` (the redis plugin is off)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def counts(self, keys: Sequence[str], since: float) -> dict[str, _Count]:
        after = datetime.fromtimestamp(since, UTC)
        async with self.database.session_scope(readonly=True) as session:
            rows = await session.execute(
                select(SignInFailure.key, func.count(), func.min(SignInFailure.failed_at))
                .where(SignInFailure.key.in_(keys), SignInFailure.failed_at > after)
                .group_by(SignInFailure.key)
            )
            return {key: _Count(n, oldest.timestamp()) for key, n, oldest in rows}

    async def record(self, keys: Sequence[str], now: float, window: int) -> None:
        at = datetime.fromtimestamp(now, UTC)
        expired = at - timedelta(seconds=window)
        async with self.database.session_scope() as session:
            rows = [{"id": uuid.uuid4(), "key": key, "failed_at": at} for key in keys]
            await session.execute(insert(SignInFailure), rows)
            stale = [and_(SignInFailure.key == k, SignInFailure.failed_at <= expired) for k in keys]
            await session.execute(delete(SignInFailure).where(or_(*stale)))


class NoAttemptCounter:
    """Verify-only mode (no account routes): nothing to count."""

    async def counts(self, keys: Sequence[str], since: float) -> dict[str, _Count]:
        return {}

    async def record(self, keys: Sequence[str], now: float, window: int) -> None:
        return None


class RedisAttemptCounter:
    """Failures as sorted sets in Redis, one per key, expiring with the window."""

    def __init__(self, service: RedisService) -> None:
        from faster_redis import RedisError, RedisUnavailableError  # noqa: PLC0415 - optional

        self.service = service
        self._errors: tuple[type[Exception], ...] = (RedisError, RedisUnavailableError)

    def _key(self, key: str) -> str:
        return self.service.key("auth", "sign-in-failures", key)

    async def counts(self, keys: Sequence[str], since: float) -> dict[str, _Count]:
        async def read(client: Any) -> list[Any]:
            async with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zcount(self._key(key), f"({since}", "+inf")
                    pipe.zrangebyscore(self._key(key), f"({since}", "+inf", 0, 1, withscores=True)
                result: list[Any] = await pipe.execute()
                return result

        replies = await self.service.execute(read)
        counts: dict[str, _Count] = {}
        for index, key in enumerate(keys):
            n, oldest = replies[2 * index], replies[2 * index + 1]
            if n:
                counts[key] = _Count(int(n), float(oldest[0][1]) if oldest else None)
        return counts

    async def record(self, keys: Sequence[str], now: float, window: int) -> None:
        async def write(client: Any) -> None:
            async with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    name = self._key(key)
                    pipe.zadd(name, {uuid.uuid4().hex: now})
                    pipe.zremrangebyscore(name, "-inf", now - window)
                    pipe.expire(name, window + 1)
                await pipe.execute()

        await self.service.execute(write)


class SignInThrottle:
    """Refuses sign-ins and reset requests over the limits; counts failures."""

    def __init__(
        self,
        counter: AttemptCounter,
        *,
        max_failures: int,
        max_failures_per_ip: int,
        window: int,
        trusted_proxies: TrustedProxies,
        redis: RedisService | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counter = counter
        self.limits = {"account": max_failures, "ip": max_failures_per_ip}
        self.window = window
        self.trusted = trusted_proxies
        self.redis = redis
        self._clock = clock
        self._redis_errors: tuple[type[Exception], ...] = ()
        if redis is not None:
            from faster_redis import RedisError, RedisUnavailableError  # noqa: PLC0415 - optional

            self._redis_errors = (RedisError, RedisUnavailableError)

    def keys(self, scope: Scope, email: str | None, *, subject: str | None = None) -> list[str]:
        """The counters an attempt from `scope` counts against: the client's IP, and the
        account, named by the submitted `email` (sign-in) or the caller's `subject` (a signed-in
        user confirming their password)."""
        keys = ["ip:" + client_ip(scope, self.trusted)]
        if email:
            digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
            keys.insert(0, "account:" + digest)
        elif subject:
            digest = hashlib.sha256(b"subject\0" + subject.encode()).hexdigest()
            keys.insert(0, "account:" + digest)
        return keys

    async def check(self, keys: Sequence[str]) -> None:
        """Raise `TooManyAttemptsError` when any counter of `keys` is at its limit."""
        now = self._clock()
        counts = await self._guarded(self.counter.counts(keys, now - self.window))
        if counts is None:
            return
        waits = [
            self._wait(count, now)
            for key, count in counts.items()
            if count.failures >= self.limits[key.partition(":")[0]]
        ]
        if waits:
            logger.warning("sign-in attempts refused: over the limit")
            raise TooManyAttemptsError(max(waits))

    async def record_failure(self, keys: Sequence[str]) -> None:
        await self._guarded(self.counter.record(keys, self._clock(), self.window))

    def _wait(self, count: _Count, now: float) -> int:
        oldest = count.oldest if count.oldest is not None else now
        return max(1, math.ceil(oldest + self.window - now))

    async def _guarded(self, operation: Any) -> Any:
        if self.redis is None:
            return await operation
        try:
            return await operation
        except self._redis_errors as exc:
            policy = self.redis.settings.ratelimit_login_failure
            if self.redis.fails_open(policy, "auth-sign-in"):
                logger.warning("sign-in limits unavailable: attempts pass uncounted")
                return None
            raise self.redis.unavailable() from exc
