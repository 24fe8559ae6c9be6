"""faster-observability: request ids end to end, structured logs, Sentry and Prometheus."""

from faster_observability._version import __version__
from faster_observability.correlation import (
    RequestContext,
    correlation_fields,
    current_request_context,
    current_trace_id,
    set_user_id,
)
from faster_observability.exceptions import (
    MultiprocessMetricsError,
    ObservabilityConfigurationError,
    ObservabilityError,
    SentryTransportError,
)
from faster_observability.plugin import ObservabilityPlugin
from faster_observability.redaction import REDACTED, Redactor
from faster_observability.sentry import capture_exception
from faster_observability.settings import LogFormat, ObservabilitySettings
from faster_observability.state import Observability

__all__ = [
    "REDACTED",
    "LogFormat",
    "MultiprocessMetricsError",
    "Observability",
    "ObservabilityConfigurationError",
    "ObservabilityError",
    "ObservabilityPlugin",
    "ObservabilitySettings",
    "Redactor",
    "RequestContext",
    "SentryTransportError",
    "__version__",
    "capture_exception",
    "correlation_fields",
    "current_request_context",
    "current_trace_id",
    "set_user_id",
]
