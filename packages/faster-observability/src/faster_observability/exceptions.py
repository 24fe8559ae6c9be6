"""The plugin's errors, rooted in faster-core's hierarchy::

FasterError
├── ObservabilityError                 root of this package's errors
│   └── SentryTransportError          Sentry's client is closed, rate limited or backed up
└── ConfigurationError
    └── ObservabilityConfigurationError  (also an ObservabilityError)
        └── MultiprocessMetricsError     PROMETHEUS_MULTIPROC_DIR cannot work as set
"""

from __future__ import annotations

from faster_core import ConfigurationError, FasterError

__all__ = [
    "MultiprocessMetricsError",
    "ObservabilityConfigurationError",
    "ObservabilityError",
    "SentryTransportError",
]


class ObservabilityError(FasterError):
    """Root of the errors raised by faster-observability."""


class ObservabilityConfigurationError(ObservabilityError, ConfigurationError):
    """Settings of this plugin that cannot work; the message names the setting."""


class MultiprocessMetricsError(ObservabilityConfigurationError):
    """Prometheus multi-process mode is asked for but cannot work as configured."""


class SentryTransportError(ObservabilityError):
    """Sentry's client is closed, rate limited or its send queue is full (a health check)."""
