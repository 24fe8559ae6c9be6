"""Pure ASGI middleware: a global rate limit on every HTTP request."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core import ProblemError, problem_response
from faster_redis.context import service_from_scope
from faster_redis.ratelimit import Limit

__all__ = ["RateLimitMiddleware", "render_problem"]


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
