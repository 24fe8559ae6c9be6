"""OpenTelemetry (the `otel` extra): a server span per request, exported over OTLP/HTTP.

Off unless `FASTER_OBSERVABILITY_OTEL_ENDPOINT` is set, and OpenTelemetry is not even imported
then. The tracer provider belongs to the app (it is not installed as the global provider), a
request's span continues an incoming `traceparent`, is named after the route template
(`GET /items/{item_id}`) and is current while the request is handled, so spans the app starts
nest under it. The provider is shut down (its batch flushed) with the app.
"""

from __future__ import annotations

import importlib
from typing import Any

from faster_observability.correlation import RequestContext
from faster_observability.exceptions import ObservabilityConfigurationError
from faster_observability.settings import ObservabilitySettings

__all__ = ["RequestSpan", "Tracing", "start_tracing"]


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ObservabilityConfigurationError(
            "FASTER_OBSERVABILITY_OTEL_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'faster-observability[otel]'"
        ) from exc


class RequestSpan:
    """One request's server span, current until `end()`."""

    __slots__ = ("_context_api", "_span", "_token")

    def __init__(self, span: Any, context_api: Any, trace_api: Any) -> None:
        self._span = span
        self._context_api = context_api
        self._token = context_api.attach(trace_api.set_span_in_context(span))

    def end(self, context: RequestContext, route: str | None) -> None:
        span = self._span
        status = context.status or 500
        if route is not None:
            span.update_name(f"{context.method} {route}")
            span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(self._error_status())
        span.end()

    def leave(self) -> None:
        """Stop being the current span (in the context it was made current in)."""
        self._context_api.detach(self._token)

    @staticmethod
    def _error_status() -> Any:
        trace_api = importlib.import_module("opentelemetry.trace")
        return trace_api.Status(trace_api.StatusCode.ERROR)


class Tracing:
    """The app's tracer provider and tracer."""

    def __init__(self, provider: Any, modules: dict[str, Any]) -> None:
        self.provider = provider
        self._trace = modules["trace"]
        self._context = modules["context"]
        self._propagator = modules["propagator"].TraceContextTextMapPropagator()
        self.tracer = provider.get_tracer("faster_observability")

    def start(self, context: RequestContext, traceparent: str | None) -> RequestSpan:
        parent = self._propagator.extract({"traceparent": traceparent}) if traceparent else None
        span = self.tracer.start_span(
            context.method,
            context=parent,
            kind=self._trace.SpanKind.SERVER,
            attributes={"http.request.method": context.method, "url.path": context.path},
        )
        return RequestSpan(span, self._context, self._trace)

    def shutdown(self) -> None:
        self.provider.shutdown()


def start_tracing(settings: ObservabilitySettings, service_name: str) -> Tracing | None:
    """The app's tracing when an OTLP endpoint is set, else `None` (nothing imported)."""
    if settings.otel_endpoint is None:
        return None
    sdk = _module("opentelemetry.sdk.trace")
    export = _module("opentelemetry.sdk.trace.export")
    sampling = _module("opentelemetry.sdk.trace.sampling")
    resources = _module("opentelemetry.sdk.resources")
    otlp = _module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    provider = sdk.TracerProvider(
        resource=resources.Resource.create(
            {"service.name": settings.otel_service_name or service_name}
        ),
        sampler=sampling.ParentBased(sampling.TraceIdRatioBased(settings.otel_sample_rate)),
    )
    exporter = otlp.OTLPSpanExporter(endpoint=settings.otel_endpoint)
    provider.add_span_processor(export.BatchSpanProcessor(exporter))
    modules = {
        "trace": _module("opentelemetry.trace"),
        "context": _module("opentelemetry.context"),
        "propagator": _module("opentelemetry.trace.propagation.tracecontext"),
    }
    return Tracing(provider, modules)
