"""Which app's Redis a decorated function (`@cached`, `@locked`) uses.

Inside a request of an app with the plugin, the app's service is current (set by the
plugin's `ResponseCacheMiddleware`, or `RedisContextMiddleware` in an app assembled without
the plugin). Elsewhere (background jobs, scripts, tests) bind one explicitly with
`with use_redis(service): ...`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from faster_core import ConfigurationError

if TYPE_CHECKING:
    from faster_redis.service import RedisService

__all__ = ["RedisContextMiddleware", "current_redis", "service_from_scope", "use_redis"]

STATE_KEY = "faster_redis"
_current: ContextVar[RedisService | None] = ContextVar("faster_redis_current", default=None)


def current_redis() -> RedisService:
    """The Redis service bound to the running request or `use_redis` block."""
    service = _current.get()
    if service is None:
        raise ConfigurationError(
            "no Redis service is bound: call this inside a request of an app with the redis "
            "plugin, or inside `with use_redis(app.state.faster_redis)`"
        )
    return service


@contextmanager
def use_redis(service: RedisService) -> Iterator[RedisService]:
    """Bind `service` as the current one for the block."""
    token = _current.set(service)
    try:
        yield service
    finally:
        _current.reset(token)


# `bind_redis(service)` makes `service` the current one and returns the token to pass to
# `unbind_redis`: the context variable's own methods, as they run for every request.
bind_redis: Callable[[RedisService | None], Token[RedisService | None]] = _current.set
unbind_redis: Callable[[Token[RedisService | None]], None] = _current.reset


def service_from_scope(scope: Scope) -> RedisService | None:
    """The app's service from the lifespan state, or `app.state` when no state is passed."""
    state: dict[str, Any] = scope.get("state") or {}
    service = state.get(STATE_KEY)
    if service is None and "app" in scope:
        service = getattr(scope["app"].state, STATE_KEY, None)
    return service


class RedisContextMiddleware:
    """Binds the app's Redis service for the duration of each request (pure ASGI), for an app
    that has no `ResponseCacheMiddleware` (which binds it too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current.set(service_from_scope(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
