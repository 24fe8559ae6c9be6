"""The per-request middleware: correlation context, HTTP metrics and the access-log line.

One pure ASGI layer does all three, timing the request once. It sits at `OBSERVABILITY_SLOT`,
between the core's security headers and its error boundary, so it runs inside the request id
and sees the 500 the boundary answers for an unhandled exception. The line and the metrics are
recorded when the last body chunk has been sent (before any background task runs), or when the
app returns without finishing a response.

It runs for every request, so it does only what the app's settings ask for: with metrics, the
access log and tracing all off it sets the context and calls the app with `send` unwrapped.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core import Slot
from faster_observability.correlation import (
    RequestContext,
    enter_request,
    leave_request,
    route_template,
    traceparent_header,
)
from faster_observability.state import Observability

__all__ = ["OBSERVABILITY_SLOT", "ObservabilityMiddleware"]

OBSERVABILITY_SLOT = (Slot.SECURITY_HEADERS + Slot.ERRORS) // 2 + 25
"""275: inside the security headers (and CORS at 250), outside the error boundary (300)."""


def _record(
    observability: Observability, context: RequestContext, duration: float, span: Any
) -> None:
    """Record a finished request: its metrics, its access line, the end of its span."""
    route = route_template(context.scope)
    metrics = observability.metrics
    if metrics is not None:
        metrics.http.observe(context.method, route, context.status or 500, duration)
    access_log = observability.access_log
    if access_log is not None:
        access_log.emit(context, route, duration)
    if span is not None:
        span.end(context, route)


def _start_span(observability: Observability, context: RequestContext) -> Any:
    tracing = observability.tracing
    if tracing is None:
        return None
    raw = traceparent_header(context.scope)
    valid = raw is not None and context.trace_id is not None
    return tracing.start(context, raw.decode("latin-1") if valid and raw else None)


class ObservabilityMiddleware:
    """Sets the request context, and records metrics and the access log for each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state")
        observability = state.get("observability") if state else None
        if observability is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(scope["method"], scope["path"], scope)
        token = enter_request(context)
        try:
            if observability.records:
                await self._observed(observability, context, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            leave_request(token)

    async def _observed(
        self, observability: Observability, context: RequestContext, receive: Receive, send: Send
    ) -> None:
        """Call the app, timing it and recording the outcome once the response is sent (or the
        app returned without sending it)."""
        metrics = observability.metrics
        gauge = metrics.http.started(context.method) if metrics is not None else None
        span = _start_span(observability, context)
        finished = False
        started = perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start":
                context.status = message["status"]
            elif not finished and not message.get("more_body", False):
                await send(message)
                if message["type"] == "http.response.body":
                    finished = True
                    _record(observability, context, perf_counter() - started, span)
                return
            await send(message)

        try:
            await self.app(context.scope, receive, observed_send)
        finally:
            if not finished:
                _record(observability, context, perf_counter() - started, span)
            if gauge is not None:
                gauge.dec()
            if span is not None:
                span.leave()
