"""The `observability` plugin: the entry point targets this module.

The module's hook implementations serve the installed plugin; `ObservabilityPlugin(...)` is the
same plugin as an object, for `create_app(plugins=[...])` with test doubles (a log stream, an
isolated registry).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import ExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO

import pluggy
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException

from faster_core import (
    Environment,
    HealthCheck,
    MiddlewareSpec,
    PluginHost,
    PluginInfo,
    PluginLifespan,
    ProblemError,
    Slot,
    hookimpl,
)
from faster_core.middleware import ObserverMiddleware, RequestObserver
from faster_core.problems import ExceptionHandler, problem_exception_handlers
from faster_observability import hookspecs
from faster_observability._version import __version__
from faster_observability.access_log import AccessLog
from faster_observability.health import observability_health_checks
from faster_observability.logs import install_logging
from faster_observability.metrics import MetricsState, http_metrics, multiprocess_directory
from faster_observability.metrics_endpoint import metrics_router
from faster_observability.middleware import OBSERVABILITY_SLOT, ObservabilityObserver
from faster_observability.redaction import Redactor
from faster_observability.sentry import (
    SentryCaptureMiddleware,
    install_sentry,
    reporting_handlers,
)
from faster_observability.settings import ObservabilitySettings
from faster_observability.state import Observability
from faster_observability.tracing import start_tracing

if TYPE_CHECKING:
    from faster_observability.sentry import SentryInstallation

__all__ = ["NAME", "ObservabilityPlugin"]

NAME = "observability"


def _settings(host: PluginHost) -> ObservabilitySettings:
    return host.settings_for(NAME, ObservabilitySettings)


class ObservabilityPlugin:
    """The plugin; the entry point names this class, so each app gets its own instance.
    `registry` replaces the app's own Prometheus registry (an
    isolated one from a test, say); `log_stream` receives the log lines instead of stderr."""

    def __init__(
        self, *, registry: CollectorRegistry | None = None, log_stream: TextIO | None = None
    ) -> None:
        self.registry = registry
        self.log_stream = log_stream

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo(NAME, __version__, settings=ObservabilitySettings)

    @hookimpl
    def faster_add_hookspecs(self, pm: pluggy.PluginManager) -> None:
        pm.add_hookspecs(hookspecs)

    @hookimpl
    def faster_request_observers(self) -> Iterable[RequestObserver]:
        return [ObservabilityObserver()]

    @hookimpl
    def faster_middleware(self, host: PluginHost) -> Iterable[MiddlewareSpec]:
        settings = _settings(host)
        specs = []
        if not host.is_enabled("http"):  # else the core's request id pass tells the observer
            observer = {"observer": ObservabilityObserver()}
            specs.append(MiddlewareSpec(ObserverMiddleware, OBSERVABILITY_SLOT, observer))
        if settings.sentry_dsn is not None:
            options = {
                "capture_statuses": settings.sentry_capture_statuses,
                "traces": settings.sentry_traces_sample_rate > 0,
            }
            specs.append(MiddlewareSpec(SentryCaptureMiddleware, Slot.ERRORS + 1, options))
        return specs

    @hookimpl
    def faster_exception_handlers(
        self, host: PluginHost
    ) -> Mapping[type[Exception] | int, ExceptionHandler] | None:
        settings = _settings(host)
        if settings.sentry_dsn is None:
            return None
        core = problem_exception_handlers()
        answered: dict[type[Exception] | int, ExceptionHandler] = {
            key: core[key] for key in (HTTPException, ProblemError)
        }
        return reporting_handlers(answered, settings.sentry_capture_statuses)

    @hookimpl
    def faster_check_settings(self, host: PluginHost) -> Iterable[str]:
        settings = _settings(host)
        protected = settings.metrics_token is not None or bool(settings.metrics_allow)
        production = host.settings.env is Environment.PRODUCTION
        if settings.metrics_endpoint and production and not protected:
            return [
                "FASTER_OBSERVABILITY_METRICS_ENDPOINT is on in production without "
                "FASTER_OBSERVABILITY_METRICS_TOKEN or FASTER_OBSERVABILITY_METRICS_ALLOW"
            ]
        return []

    @hookimpl
    def faster_routers(self, host: PluginHost) -> Iterable[APIRouter]:
        settings = _settings(host)
        return [metrics_router(settings)] if settings.metrics_endpoint_on(host.settings.env) else []

    @hookimpl
    def faster_health_checks(self, host: PluginHost) -> Iterable[HealthCheck]:
        return observability_health_checks(_settings(host))

    @hookimpl
    def faster_lifespan(self, host: PluginHost) -> PluginLifespan:
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
            with ExitStack() as stack:
                yield {"observability": self._start(host, stack)}

        return lifespan

    def _start(self, host: PluginHost, stack: ExitStack) -> Observability:
        settings = _settings(host)
        env = host.settings.env
        redactor = Redactor(settings.redact_keys)
        if settings.configure_logging:
            log_file = settings.log_file
            installation = install_logging(
                redactor=redactor,
                fmt=settings.resolved_format(env),
                level=settings.log_level,
                tracebacks=settings.tracebacks_on(env),
                stream=self.log_stream,
                file=(
                    (str(log_file), settings.log_file_max_bytes, settings.log_file_backups)
                    if log_file is not None
                    else None
                ),
                batch_seconds=settings.access_log_batch_seconds,
            )
            stack.callback(installation.restore)
        metrics = self._start_metrics(host, settings, stack)
        sentry: SentryInstallation | None = install_sentry(settings, env, redactor)
        if sentry is not None:
            stack.callback(sentry.close)
        access_log = AccessLog(redactor) if settings.access_log else None
        tracing = start_tracing(settings, host.settings.title)
        if tracing is not None:
            stack.callback(tracing.shutdown)
        return Observability(settings, redactor, metrics, access_log, sentry, tracing)

    def _start_metrics(
        self, host: PluginHost, settings: ObservabilitySettings, stack: ExitStack
    ) -> MetricsState | None:
        if not settings.metrics:
            return None
        directory = multiprocess_directory(settings)
        registry = self.registry if self.registry is not None else CollectorRegistry()
        http = http_metrics(registry, settings.metrics_buckets, multiprocess=directory is not None)
        state = MetricsState(registry, http, directory)
        stack.callback(state.process_exited)
        # In plugin order; a failing implementation stops start-up naming its plugin.
        host.call_in_order("faster_observability_metrics", registry=registry, host=host)
        return state
