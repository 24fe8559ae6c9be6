"""What ties a log line, a metric and a Sentry event to the request that caused them.

The request id is the core's (`faster_core.current_request_id()`, from `X-Request-ID` or made
by the core); an incoming W3C `traceparent` adds its trace id. Both live in context variables:
code running for the request sees them, and so do background tasks the request schedules
(Starlette runs them in the request's context; `asyncio.create_task` copies the context).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar, Token

from starlette.types import Scope

from faster_core import current_request_id

__all__ = [
    "UNPARSED",
    "RequestContext",
    "correlation_fields",
    "current_request_context",
    "current_trace_id",
    "parse_traceparent",
    "route_template",
    "set_user_id",
]

_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")
_INVALID_TRACE = b"0" * 32
_INVALID_SPAN = b"0" * 16
_context: ContextVar[RequestContext | None] = ContextVar(
    "faster_observability_request", default=None
)


def route_template(scope: Scope) -> str | None:
    """The path template of the route that matched (`/items/{item_id}`), or `None` (yet)."""
    route = scope.get("route")
    if route is None:
        return None
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template is None:
        return None
    root_path = scope.get("root_path")
    return f"{root_path}{template}" if root_path else template


UNPARSED: tuple[str, str] | None = ("", "")
"""`RequestContext._trace` until the `traceparent` header is looked for."""


class RequestContext:
    """The request being handled: filled in as it is learnt (the route once routing matched,
    the user id when authentication says so, the status when the response starts).

    Built for every request, so it does no work up front: the `traceparent` header is only
    looked for the first time `trace_id` or `parent_span_id` is read.
    """

    __slots__ = ("_trace", "method", "path", "scope", "status", "user_id")

    def __init__(self, method: str, path: str, scope: Scope) -> None:
        self.method = method
        self.path = path
        self.scope = scope
        self.user_id: str | None = None
        self.status: int | None = None
        self._trace = UNPARSED

    def __repr__(self) -> str:
        return f"RequestContext(method={self.method!r}, path={self.path!r}, status={self.status!r})"

    @property
    def route(self) -> str | None:
        return route_template(self.scope)

    @property
    def trace_id(self) -> str | None:
        """The W3C trace id of a valid incoming `traceparent`, else `None`."""
        trace = self._trace
        if trace is UNPARSED:  # `_incoming_trace`'s test, first: this is read for every request
            trace = self._incoming_trace()
        return trace[0] if trace is not None else None

    @property
    def parent_span_id(self) -> str | None:
        trace = self._incoming_trace()
        return trace[1] if trace is not None else None

    def _incoming_trace(self) -> tuple[str, str] | None:
        trace = self._trace
        if trace is UNPARSED:
            raw = traceparent_header(self.scope)
            trace = self._trace = parse_traceparent(raw) if raw is not None else None
        return trace


def traceparent_header(scope: Scope) -> bytes | None:
    """The raw `traceparent` header of the request in `scope`, if it has one."""
    for key, value in scope["headers"]:
        if key == b"traceparent":
            return bytes(value)
    return None


# `enter_request(context)` makes `context` the current request's (the middleware's job) and
# returns the token to pass to `leave_request`. The context variable's own methods, not
# functions calling them: they run twice per request.
enter_request: Callable[[RequestContext | None], Token[RequestContext | None]] = _context.set
leave_request: Callable[[Token[RequestContext | None]], None] = _context.reset


def parse_traceparent(value: bytes) -> tuple[str, str] | None:
    """`(trace id, parent span id)` of a valid W3C `traceparent` header value, else `None`."""
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None or match.group(1) == _INVALID_TRACE or match.group(2) == _INVALID_SPAN:
        return None
    return match.group(1).decode(), match.group(2).decode()


def current_request_context() -> RequestContext | None:
    """The context of the request being handled here, or `None` outside a request."""
    return _context.get()


def current_trace_id() -> str | None:
    """The W3C trace id the current request arrived with, if any."""
    context = _context.get()
    return context.trace_id if context is not None else None


def set_user_id(user_id: object) -> None:
    """Record who the current request acts for; later log lines and Sentry events carry it.

    Call it from authentication code (a dependency, a middleware); outside a request it does
    nothing.
    """
    context = _context.get()
    if context is not None:
        context.user_id = None if user_id is None else str(user_id)


def correlation_fields() -> dict[str, str]:
    """`request_id` and `trace_id` of the current request (only those known), e.g. to attach to
    an event published to other plugins or processes."""
    fields: dict[str, str] = {}
    request_id = current_request_id()
    if request_id is not None:
        fields["request_id"] = request_id
    trace_id = current_trace_id()
    if trace_id is not None:
        fields["trace_id"] = trace_id
    return fields
