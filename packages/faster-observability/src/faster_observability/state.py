"""What the plugin keeps per app: yielded by its lifespan as `observability`, so it is
`request.state.observability` and `app.state.observability`."""

from __future__ import annotations

from dataclasses import dataclass, field

from faster_observability.access_log import AccessLog
from faster_observability.metrics import MetricsState
from faster_observability.redaction import Redactor
from faster_observability.sentry import SentryInstallation
from faster_observability.settings import ObservabilitySettings
from faster_observability.tracing import Tracing

__all__ = ["Observability"]


@dataclass(slots=True)
class Observability:
    """The app's observability resources; any part a setting switched off is `None`."""

    settings: ObservabilitySettings
    redactor: Redactor
    metrics: MetricsState | None
    access_log: AccessLog | None
    sentry: SentryInstallation | None
    tracing: Tracing | None = None
    records: bool = field(init=False)
    """Whether anything is recorded per request (metrics, access log or tracing); when not,
    the middleware only sets the request context."""

    def __post_init__(self) -> None:
        parts = (self.metrics, self.access_log, self.tracing)
        self.records = any(part is not None for part in parts)
