"""The per-request observer: correlation context, HTTP metrics and the access-log line.

It watches each request from the core's request id pass (`faster_request_observers`), which
is the outermost layer: it sees every response, the 500 the core's error boundary answers for
an unhandled exception included, and costs no layer of its own. Without the core's `http`
plugin it runs in an `ObserverMiddleware` at `OBSERVABILITY_SLOT` instead. The line and the
metrics are recorded when the last body chunk has been sent (before any background task runs),
or when the app returns without finishing a response.

It runs for every request, so it does only what the app's settings ask for: with metrics, the
access log and tracing all off it only sets the request context.
"""

from __future__ import annotations

from time import perf_counter

from starlette.types import Message, Scope

from faster_core import RequestWatch, Slot
from faster_observability.correlation import (
    UNPARSED,
    RequestContext,
    enter_request,
    leave_request,
    route_template,
    traceparent_header,
)
from faster_observability.state import Observability
from faster_observability.tracing import RequestSpan, Tracing

__all__ = ["OBSERVABILITY_SLOT", "ObservabilityObserver"]

OBSERVABILITY_SLOT = (Slot.SECURITY_HEADERS + Slot.ERRORS) // 2 + 25
"""275 (without the core's `http` plugin): inside CORS (250), outside the error boundary (300)."""


def _start_span(tracing: Tracing, context: RequestContext) -> RequestSpan:
    raw = traceparent_header(context.scope)
    valid = raw is not None and context.trace_id is not None
    return tracing.start(context, raw.decode("latin-1") if valid and raw else None)


class ObservabilityObserver:
    """Sets the request context, and records metrics and the access log for each request."""

    def request_started(self, scope: Scope, request_id: str) -> RequestWatch | None:
        state = scope.get("state")
        observability = state.get("observability") if state else None
        if observability is None:
            return None
        if not observability.records:
            return _ContextOnly(scope)
        return _Recorder(observability, scope, request_id)


# The watches are the request's context themselves (one object per request, not two: this runs
# for every request), and set it as the current one when they are made.


class _ContextOnly(RequestContext):
    """The watch of a request nothing is recorded for: it only ends the request context."""

    __slots__ = ("token",)

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope["method"], scope["path"], scope)
        self.token = enter_request(self)

    def response_started(self, message: Message) -> None:
        pass

    def response_finished(self) -> None:
        pass

    def request_finished(self) -> None:
        leave_request(self.token)


class _Recorder(RequestContext):
    """One request's context, timing and outcome."""

    __slots__ = ("gauge", "observability", "recorded", "request_id", "span", "started", "token")

    def __init__(self, observability: Observability, scope: Scope, request_id: str) -> None:
        # `RequestContext.__init__`'s fields, set here rather than through a second call.
        self.method = method = scope["method"]
        self.path = scope["path"]
        self.scope = scope
        self.user_id = None
        self.status = None
        self._trace = UNPARSED
        self.token = enter_request(self)
        self.observability = observability
        self.request_id = request_id
        metrics = observability.metrics
        self.gauge = metrics.http.started(method) if metrics is not None else None
        tracing = observability.tracing
        self.span = None if tracing is None else _start_span(tracing, self)
        self.recorded = False
        self.started = perf_counter()

    def response_started(self, message: Message) -> None:
        self.status = message["status"]

    def response_finished(self) -> None:
        if not self.recorded:
            self.record()

    def request_finished(self) -> None:
        if not self.recorded:
            self.record()
        if self.gauge is not None:
            self.gauge.dec()
        if self.span is not None:
            self.span.leave()
        leave_request(self.token)

    def record(self) -> None:
        """Record the finished request: its metrics, its access line, the end of its span."""
        self.recorded = True
        duration = perf_counter() - self.started
        observability = self.observability
        route = route_template(self.scope)
        metrics = observability.metrics
        if metrics is not None:
            metrics.http.observe(self.method, route, self.status or 500, duration)
        access_log = observability.access_log
        if access_log is not None:
            access_log.emit(self, route, duration, self.request_id)
        if self.span is not None:
            self.span.end(self, route)
