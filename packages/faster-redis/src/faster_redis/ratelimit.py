"""Rate limits counted on the Redis server (Lua), so they hold across processes and hosts.

Declare a limit per route with `@rate_limited("5/minute", login=True)` on the endpoint (checked
in pure ASGI, before FastAPI resolves dependencies) or `Depends(rate_limit(...))` (a request
dependency: called by the core before FastAPI's handler where it leads the route's
dependencies), or on every request with `RateLimitMiddleware` (`FASTER_REDIS_RATELIMIT_GLOBAL`).
A refusal is a 429 problem with `Retry-After` and the IETF `RateLimit` / `RateLimit-Policy`
headers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from fastapi import Request

from faster_core import TrustedProxies, added_response_headers, client_ip, request_dependency
from faster_redis import _scripts
from faster_redis._batch import ScriptBatcher
from faster_redis.context import service_from_scope
from faster_redis.exceptions import RateLimitExceededError, RedisUnavailableError
from faster_redis.settings import FailurePolicy

if TYPE_CHECKING:
    from faster_redis.service import RedisService

__all__ = [
    "Algorithm",
    "Decision",
    "KeyFunc",
    "Limit",
    "RateLimiter",
    "by_ip",
    "by_user",
    "rate_limit",
    "rate_limited",
]

F = TypeVar("F", bound=Callable[..., Any])
MARK = "__faster_redis_rate_limits__"
KeyFunc = Callable[[Request], "str | None"]
"""Who a request counts against; `None` exempts the request."""

PERIODS = {
    "s": 1,
    "second": 1,
    "m": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
_HEADER_NAMES = (b"ratelimit-policy", b"ratelimit")


class Algorithm(StrEnum):
    SLIDING_WINDOW = "sliding-window"
    """Exact: at most `limit` admitted in any `period`; memory grows with `limit`."""
    FIXED_WINDOW = "fixed-window"
    """One counter per window; up to 2x `limit` across a window boundary."""
    GCRA = "gcra"
    """A burst of `limit`, then evenly spaced; one key of constant size."""


@dataclass(frozen=True, slots=True)
class Limit:
    """`limit` requests per `period` seconds for each key `key(request)` returns."""

    limit: int
    period: float
    name: str | None = None
    algorithm: Algorithm = Algorithm.SLIDING_WINDOW
    key: KeyFunc | None = None
    login: bool = False
    """A limit guarding credentials: it follows `FASTER_REDIS_RATELIMIT_LOGIN_FAILURE`."""
    failure: FailurePolicy | None = None
    """Overrides the policy from settings for this limit."""

    @classmethod
    def parse(cls, spec: str, **options: Any) -> Limit:
        """`"100/minute"`, `"5/10s"`, `"1000/hour"`."""
        match = SPEC.match(spec.lower())
        if match is None or match.group(3) not in PERIODS:
            raise ValueError(f"rate limit {spec!r} is not of the form '100/minute' or '5/10s'")
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * PERIODS[unit], **options)


class Decision(NamedTuple):
    """The server's answer for one request (a named tuple: built on every limited request, and
    a frozen dataclass costs several times as much to build)."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int
    name: str
    period: float

    def headers(self) -> dict[str, str]:
        """The IETF `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit)."""
        return {
            "RateLimit-Policy": f'"{self.name}";q={self.limit};w={math.ceil(self.period)}',
            "RateLimit": f'"{self.name}";r={self.remaining};t={self.reset}',
        }

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """`headers()` as ASGI header pairs."""
        name = self.name.encode()
        policy = b'"%b";q=%d;w=%d' % (name, self.limit, math.ceil(self.period))
        state = b'"%b";r=%d;t=%d' % (name, self.remaining, self.reset)
        return [(b"ratelimit-policy", policy), (b"ratelimit", state)]


def by_ip(request: Request) -> str:
    """The client's IP (`X-Forwarded-For` believed only from `FASTER_REDIS_TRUSTED_PROXIES`)."""
    service = service_from_scope(request.scope)
    trusted = service.limiter.trusted if service is not None else TrustedProxies(())
    return "ip:" + client_ip(request.scope, trusted)


def by_user(request: Request) -> str:
    """The authenticated user (`scope["user"]` or `request.state.user`, by `id`, `identity`
    or `subject` (faster-auth's)); anonymous requests fall back to their IP."""
    user = request.scope.get("user") or getattr(request.state, "user", None)
    if user is not None and getattr(user, "is_authenticated", True):
        ident = (
            getattr(user, "id", None)
            or getattr(user, "identity", None)
            or getattr(user, "subject", None)
        )
        if ident is not None:
            return f"user:{ident}"
    return by_ip(request)


class RateLimiter:
    """The app's limiter: runs the scripts, applies the failure policy, holds test overrides."""

    def __init__(self, service: RedisService) -> None:
        self.service = service
        self.trusted = TrustedProxies(
            service.settings.trusted_proxies, setting="FASTER_REDIS_TRUSTED_PROXIES"
        )
        self.enabled = service.settings.ratelimit_enabled
        self.overrides: dict[str, Limit] = {}
        self._keys = service.key("rl", "")
        self._batcher = ScriptBatcher(service)
        client = service.client
        self._scripts = {
            Algorithm.SLIDING_WINDOW: client.register_script(_scripts.SLIDING_WINDOW),
            Algorithm.FIXED_WINDOW: client.register_script(_scripts.FIXED_WINDOW),
            Algorithm.GCRA: client.register_script(_scripts.GCRA),
        }

    async def aclose(self) -> None:
        await self._batcher.aclose()

    @contextmanager
    def disabled(self) -> Iterator[RateLimiter]:
        """No limit applies inside the block (for tests)."""
        previous, self.enabled = self.enabled, False
        try:
            yield self
        finally:
            self.enabled = previous

    @contextmanager
    def override(self, name: str, limit: Limit | str) -> Iterator[RateLimiter]:
        """The limit named `name` is `limit` inside the block (for tests)."""
        new = Limit.parse(limit) if isinstance(limit, str) else limit
        previous = self.overrides.get(name)
        self.overrides[name] = new
        try:
            yield self
        finally:
            if previous is None:
                self.overrides.pop(name, None)
            else:
                self.overrides[name] = previous

    async def hit(self, limit: Limit, name: str, identity: str) -> Decision:
        """Count one request of `identity` against `limit` on the server."""
        # One hash tag for the script's keys: one Redis Cluster slot per name and identity.
        key = self._keys + "{" + name + ":" + identity + "}"
        keys = [key, key + ":seq"] if limit.algorithm is Algorithm.SLIDING_WINDOW else [key]
        args = [limit.limit, math.ceil(limit.period * 1000)]
        script = self._scripts[limit.algorithm]
        allowed, remaining, reset_ms, retry_ms = await self._batcher.run(script, keys, args)
        return Decision(
            bool(allowed),
            limit.limit,
            max(0, int(remaining)),
            -(-int(reset_ms) // 1000),
            max(1, -(-int(retry_ms) // 1000)),
            name,
            limit.period,
        )

    async def check(self, limit: Limit, request: Request) -> Decision | None:
        """Count `request`; `None` when no limit applied (disabled, exempt, or failing open).

        Raises:
            RateLimitExceededError: over the limit.
            RedisUnavailableError: Redis is down and the limit fails closed.
        """
        name = limit.name or _route_name(request)
        limit = self.overrides.get(name, limit)
        if not self.enabled:
            return None
        if limit.key is None:  # by_ip, without looking the limiter up again
            identity: str | None = "ip:" + client_ip(request.scope, self.trusted)
        else:
            identity = limit.key(request)
        if identity is None:
            return None
        try:
            decision = await self.hit(limit, name, identity)
        except RedisUnavailableError:
            if self.service.fails_open(self.policy(limit), "ratelimit"):
                return None
            raise
        if not decision.allowed:
            self.service.metrics.count("ratelimit", "denied")
            raise RateLimitExceededError(decision.retry_after, decision.headers())
        self.service.metrics.count("ratelimit", "allowed")
        return decision

    def policy(self, limit: Limit) -> FailurePolicy:
        if limit.failure is not None:
            return limit.failure
        settings = self.service.settings
        return settings.ratelimit_login_failure if limit.login else settings.ratelimit_failure


def _drop_headers(added: list[tuple[bytes, bytes]]) -> None:
    """Forget the RateLimit headers of a limit checked before on this request: with stacked
    limits a response carries the last one's, and a refusal only its own."""
    if added:
        added[:] = [header for header in added if header[0] not in _HEADER_NAMES]


def _route_name(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def _resolve(limit: Limit | str, **changes: Any) -> Limit:
    base = Limit.parse(limit) if isinstance(limit, str) else limit
    return replace(base, **{field: value for field, value in changes.items() if value is not None})


def rate_limit(
    limit: Limit | str,
    *,
    name: str | None = None,
    key: KeyFunc | None = None,
    algorithm: Algorithm | None = None,
    login: bool | None = None,
    failure: FailurePolicy | None = None,
) -> Callable[[Request], Awaitable[None]]:
    """A route dependency enforcing `limit` (a `Limit` or `"5/minute"`).

    The limit's name (default: the route's path template) names its counters, its
    `RateLimit-Policy` and what `RateLimiter.override` replaces. It is a request dependency
    (`faster_core.request_dependency`): leading a route's dependencies (its router's included),
    it is called by the core before FastAPI's handler, otherwise by FastAPI. Its `RateLimit`
    headers go through `faster_core.add_response_headers`: they reach a `Response` the endpoint
    returns and the error response of anything raised after the check, as `@rate_limited`'s do.
    """
    resolved = _resolve(
        limit, name=name, key=key, algorithm=algorithm, login=login, failure=failure
    )

    @request_dependency
    async def enforce_rate_limit(request: Request) -> None:
        service = service_from_scope(request.scope)
        if service is None:
            return
        added = added_response_headers(request)
        try:
            decision = await service.limiter.check(resolved, request)
        except (RateLimitExceededError, RedisUnavailableError):
            _drop_headers(added)
            raise
        if decision is not None:
            _drop_headers(added)
            added.extend(decision.raw_headers())

    return enforce_rate_limit


def rate_limited(
    limit: Limit | str,
    *,
    name: str | None = None,
    key: KeyFunc | None = None,
    algorithm: Algorithm | None = None,
    login: bool | None = None,
    failure: FailurePolicy | None = None,
) -> Callable[[F], F]:
    """Enforce `limit` on this route, as `Depends(rate_limit(...))` does, but in pure ASGI
    around the route: no dependency to resolve, and the `RateLimit` headers reach every
    response, a returned `Response` too. Stack it for several limits.

    The plugin wraps the marked routes when the app starts: declare them before that.
    """
    resolved = _resolve(
        limit, name=name, key=key, algorithm=algorithm, login=login, failure=failure
    )

    def mark(endpoint: F) -> F:
        setattr(endpoint, MARK, (*getattr(endpoint, MARK, ()), resolved))
        return endpoint

    return mark
