"""Sentry: started only when a DSN is set, scrubbed before anything leaves the process.

- `send_default_pii` and local variables are off unless settings turn them on; request bodies
  are never attached.
- `before_send`, `before_send_transaction` and `before_breadcrumb` run the same redaction as the
  logs over the whole event (query strings, cookies, headers, JWT-shaped strings anywhere,
  sensitive key names) and tag it with the request id, route, method, trace id and user id.
- Each request runs in its own isolation scope; with a traces sample rate above 0, in a
  transaction named after its route template, continuing an incoming `sentry-trace` or
  `traceparent`.
- Exactly one event per error: Sentry's framework auto-instrumentation is off (the middleware
  and exception handlers here decide what is reported) and log records become breadcrumbs,
  never events of their own.
- Only errors answered with a status in `FASTER_OBSERVABILITY_SENTRY_CAPTURE_STATUSES` (default
  5xx) are reported; a 404 or a 422 never is.
- At shutdown the client is flushed within `FASTER_OBSERVABILITY_SENTRY_SHUTDOWN_TIMEOUT`,
  closed, and whatever client was active before is put back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core import Environment, current_request_id
from faster_observability.access_log import ACCESS_LOGGER
from faster_observability.correlation import current_request_context, route_template
from faster_observability.redaction import Redactor
from faster_observability.settings import ObservabilitySettings

__all__ = [
    "SentryCaptureMiddleware",
    "SentryInstallation",
    "capture_exception",
    "install_sentry",
    "reporting_handler",
]

logger = logging.getLogger(__name__)
UNMATCHED = "<unmatched>"
Handler = Callable[[Request, Any], Awaitable[Response]]


def _tags() -> dict[str, str]:
    tags: dict[str, str] = {}
    request_id = current_request_id()
    if request_id is not None:
        tags["request_id"] = request_id
    context = current_request_context()
    if context is not None:
        tags["method"] = context.method
        if context.route is not None:
            tags["route"] = context.route
        if context.trace_id is not None:
            tags["trace_id"] = context.trace_id
        if context.user_id is not None:
            tags["user_id"] = context.user_id
    return tags


class _Scrubber:
    """The `before_*` callbacks: correlation tags, then redaction of the whole event."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def event(self, event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        tags = event.setdefault("tags", {})
        if isinstance(tags, dict):
            for key, value in _tags().items():
                tags.setdefault(key, value)
        context = current_request_context()
        if context is not None and context.route is not None:
            event.setdefault("transaction", f"{context.method} {context.route}")
        scrubbed: dict[str, Any] = self.redactor.value(event)
        return scrubbed

    def breadcrumb(self, crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        if crumb.get("category") == ACCESS_LOGGER:
            return None  # one per request, and the event already says which request
        scrubbed: dict[str, Any] = self.redactor.value(crumb)
        return scrubbed


class SentryInstallation:
    """The client this app started and the one it replaced; `close()` flushes and restores."""

    def __init__(self, client: sentry_sdk.Client, previous: Any, timeout: float) -> None:
        self.client = client
        self.previous = previous
        self.timeout = timeout

    def healthy(self) -> bool:
        transport = self.client.transport
        return self.client.is_active() and transport is not None and transport.is_healthy()

    def close(self) -> None:
        self.client.flush(timeout=self.timeout)
        self.client.close(timeout=self.timeout)
        scope = sentry_sdk.get_global_scope()
        if scope.client is self.client:
            scope.set_client(self.previous)


def install_sentry(
    settings: ObservabilitySettings, env: Environment, redactor: Redactor
) -> SentryInstallation | None:
    """Start the Sentry client for this app, or `None` when no DSN is set."""
    if settings.sentry_dsn is None:
        return None
    scrubber = _Scrubber(redactor)
    client = sentry_sdk.Client(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment or env.value,
        release=settings.sentry_release,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        profiles_sample_rate=settings.sentry_profiles_sample_rate,
        include_local_variables=settings.sentry_include_local_variables,
        max_request_body_size="never",
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[
            LoggingIntegration(level=logging.INFO, event_level=None),
            DedupeIntegration(),
        ],
        before_send=scrubber.event,  # type: ignore[arg-type]
        before_send_transaction=scrubber.event,  # type: ignore[arg-type]
        before_breadcrumb=scrubber.breadcrumb,
        shutdown_timeout=settings.sentry_shutdown_timeout,
        # Passed only to opt in: newer SDKs deprecate it (for `data_collection`), and leaving
        # it out keeps their default (off) on every version.
        send_default_pii=True if settings.sentry_send_default_pii else None,
    )
    scope = sentry_sdk.get_global_scope()
    previous = scope.client
    scope.set_client(client)
    logger.info("sentry reporting on (environment %s)", settings.sentry_environment or env.value)
    return SentryInstallation(client, previous, settings.sentry_shutdown_timeout)


def capture_exception(error: BaseException | None = None, /, **context: Any) -> str | None:
    """Report `error` (default: the exception being handled) to Sentry, from anywhere.

    The event carries the current request's id, route, method, trace id and user id as tags, and
    `context` (redacted like everything else) as extra data.

    Returns:
        The event id, or `None` when Sentry is off or the event was dropped.
    """
    if not sentry_sdk.get_client().is_active():
        return None
    event_id: str | None = sentry_sdk.capture_exception(error, extras=dict(context))
    return event_id


_TRACE_HEADERS = frozenset({b"sentry-trace", b"baggage", b"traceparent"})


class SentryCaptureMiddleware:
    """Per request, just inside the core's error boundary: a Sentry isolation scope (so that
    breadcrumbs and tags never cross requests), a transaction when traces are sampled, and a
    report of any exception no handler answered before it goes on to become a 500."""

    def __init__(
        self, app: ASGIApp, *, capture_statuses: frozenset[int], traces: bool = False
    ) -> None:
        self.app = app
        self.report = 500 in capture_statuses
        self.traces = traces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with sentry_sdk.isolation_scope():
            if self.traces:
                await self._traced(scope, receive, send)
            else:
                await self._reporting(scope, receive, send)

    async def _reporting(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # reported, then re-raised to the core's 500 boundary
            if self.report:
                capture_exception(exc)
            raise

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in _TRACE_HEADERS
        }
        transaction = sentry_sdk.continue_trace(
            headers, op="http.server", name=UNMATCHED, source="route"
        )
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with sentry_sdk.start_transaction(transaction):
            try:
                await self._reporting(scope, receive, recording_send)
            finally:
                # The route template, never the raw path: names stay few and carry no secret.
                transaction.name = f"{scope['method']} {route_template(scope) or UNMATCHED}"
                transaction.set_http_status(status)


def reporting_handler(handler: Handler, capture_statuses: frozenset[int]) -> Handler:
    """`handler` (an exception handler) that also reports errors answered with a status in
    `capture_statuses`."""

    async def report_then_answer(request: Request, exc: Any) -> Response:
        response = await handler(request, exc)
        if response.status_code in capture_statuses:
            capture_exception(exc)
        return response

    return report_then_answer


def reporting_handlers(
    handlers: Mapping[type[Exception] | int, Handler], capture_statuses: frozenset[int]
) -> dict[type[Exception] | int, Handler]:
    return {key: reporting_handler(h, capture_statuses) for key, h in handlers.items()}
