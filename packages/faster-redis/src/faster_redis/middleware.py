"""Pure ASGI rate limiting: a global limit on every HTTP request (`RateLimitMiddleware`), and
the limits of `@rate_limited` routes (`install_route_limits` wraps each such route's app)."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core import ProblemError, problem_response
from faster_redis.context import service_from_scope
from faster_redis.ratelimit import MARK, Decision, Limit

__all__ = ["RateLimitMiddleware", "RouteRateLimit", "install_route_limits", "render_problem"]


async def render_problem(exc: ProblemError, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `exc` as the errors plugin would render it (middleware runs outside its handlers)."""
    response = problem_response(
        scope,
        exc.status,
        detail=exc.detail,
        title=exc.title,
        type_=f"urn:faster:problem:{exc.type_slug}",
        headers=exc.headers,
    )
    await response(scope, receive, send)


class RateLimitMiddleware:
    """Counts every HTTP request against `limit` before routing; adds the RateLimit headers."""

    def __init__(self, app: ASGIApp, limit: Limit | str) -> None:
        self.app = app
        self.limit = Limit.parse(limit, name="global") if isinstance(limit, str) else limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = service_from_scope(scope) if scope["type"] == "http" else None
        if service is None:
            await self.app(scope, receive, send)
            return
        try:
            decision = await service.limiter.check(self.limit, Request(scope))
        except ProblemError as exc:
            await render_problem(exc, scope, receive, send)
            return
        if decision is None:
            await self.app(scope, receive, send)
            return
        headers = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RouteRateLimit:
    """A `@rate_limited` route's app: counts the request against each limit, then runs the
    route with the `RateLimit` headers added to its response. A refusal is raised
    (`RateLimitExceededError`, `RedisUnavailableError`) for the app's problem handlers."""

    def __init__(self, app: ASGIApp, limits: tuple[Limit, ...]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = service_from_scope(scope)
        if service is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        decision: Decision | None = None
        for limit in self.limits:
            found = await service.limiter.check(limit, request)
            if found is not None and (decision is None or found.remaining < decision.remaining):
                decision = found
        if decision is None:
            await self.app(scope, receive, send)
            return
        headers = decision.raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_route_limits(app: FastAPI) -> int:
    """Wrap the app of every route marked with `@rate_limited` (once); returns how many."""
    installed = 0
    for route in app.routes:
        limits: tuple[Limit, ...] = getattr(getattr(route, "endpoint", None), MARK, ())
        if not limits or not isinstance(route, Route) or isinstance(route.app, RouteRateLimit):
            continue
        named = tuple(replace(limit, name=limit.name or route.path) for limit in limits)
        route.app = RouteRateLimit(route.app, named)
        installed += 1
    return installed
