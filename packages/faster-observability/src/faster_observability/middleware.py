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
from faster_observability.tracing import RequestSpan, Tracing

__all__ = ["OBSERVABILITY_SLOT", "ObservabilityMiddleware"]

OBSERVABILITY_SLOT = (Slot.SECURITY_HEADERS + Slot.ERRORS) // 2 + 25
"""275: inside the security headers (and CORS at 250), outside the error boundary (300)."""


def _start_span(tracing: Tracing, context: RequestContext) -> RequestSpan:
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
        if not observability.records:
            try:
                await self.app(scope, receive, send)
            finally:
                leave_request(token)
            return
        observer = _Observer(observability, context, send)
        try:
            await self.app(scope, receive, observer.send)
        finally:
            observer.close()
            leave_request(token)


class _Observer:
    """One request's timing and outcome: `send` wraps the app's send."""

    __slots__ = ("context", "gauge", "observability", "recorded", "send_", "span", "started")

    def __init__(self, observability: Observability, context: RequestContext, send: Send) -> None:
        self.observability = observability
        self.context = context
        self.send_ = send
        metrics = observability.metrics
        self.gauge = metrics.http.started(context.method) if metrics is not None else None
        tracing = observability.tracing
        self.span = None if tracing is None else _start_span(tracing, context)
        self.recorded = False
        self.started = perf_counter()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.context.status = message["status"]
        elif not message.get("more_body", False) and not self.recorded:
            await self.send_(message)
            if message["type"] == "http.response.body":
                self.record()
            return
        await self.send_(message)

    def record(self) -> None:
        """Record the finished request: its metrics, its access line, the end of its span."""
        self.recorded = True
        duration = perf_counter() - self.started
        context = self.context
        observability = self.observability
        route = route_template(context.scope)
        metrics = observability.metrics
        if metrics is not None:
            metrics.http.observe(context.method, route, context.status or 500, duration)
        access_log = observability.access_log
        if access_log is not None:
            access_log.emit(context, route, duration)
        if self.span is not None:
            self.span.end(context, route)

    def close(self) -> None:
        if not self.recorded:
            self.record()
        if self.gauge is not None:
            self.gauge.dec()
        if self.span is not None:
            self.span.leave()
