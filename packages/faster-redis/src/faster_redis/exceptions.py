"""Errors of the redis plugin, all rooted at `faster_core.FasterError`::

    FasterError
    ├── RedisError                    a Redis command failed (the server answered with an error)
    └── ProblemError
        ├── ServiceUnavailableError
        │   └── RedisUnavailableError     unreachable, timed out, or the circuit is open (503)
        ├── RateLimitExceededError        429 with Retry-After and RateLimit headers
        └── ConflictError
            └── LockNotAcquiredError      the lock is held by someone else (409)

redis-py's own errors are translated here, at the boundary, with `raise ... from exc`.
"""

from __future__ import annotations

from http import HTTPStatus

from faster_core import ConflictError, FasterError, ProblemError, ServiceUnavailableError

__all__ = [
    "LockNotAcquiredError",
    "RateLimitExceededError",
    "RedisError",
    "RedisUnavailableError",
]


class RedisError(FasterError):
    """Redis answered a command with an error (a bug or misuse, not an outage)."""


class RedisUnavailableError(ServiceUnavailableError):
    """Redis cannot be reached in time, or the circuit breaker is open."""

    title = "Service Unavailable"
    type_slug = "redis-unavailable"


class RateLimitExceededError(ProblemError):
    """Too many requests for a rate limit; carries `Retry-After` and the RateLimit headers."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    title = "Too Many Requests"
    type_slug = "rate-limited"

    def __init__(self, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(
            f"Rate limit exceeded; retry in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after), **headers},
        )
        self.retry_after = retry_after


class LockNotAcquiredError(ConflictError):
    """The lock is held by another owner and could not be acquired in time."""

    title = "Locked"
    type_slug = "lock-not-acquired"
