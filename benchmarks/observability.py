"""faster-observability's variants: correlation, the access-log line, metrics, the whole plugin.

Each concern is measured alone around the bare app (its middleware, with the state its lifespan
would provide) against `fastapi-bare`; the whole plugin inside the core's minimal shell against
`fastapi-bare`, and on top of the core's defaults against `core-default`. Log lines go to
/dev/null through the real formatter (JSON, production settings), so the cost of rendering and
writing a line is in the figure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any, TextIO

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from benchmarks.harness import Target, Variant, add_bench_route
from faster_core import create_app
from faster_core.middleware import RequestIdMiddleware
from faster_core.settings import Environment, FasterSettings
from faster_observability import ObservabilityPlugin, ObservabilitySettings, Redactor
from faster_observability.access_log import AccessLog
from faster_observability.logs import install_logging
from faster_observability.metrics import HttpMetrics, MetricsState
from faster_observability.middleware import ObservabilityMiddleware
from faster_observability.settings import LogFormat
from faster_observability.state import Observability

__all__ = ["variants"]

QUIET = {"log_format": "json", "log_level": "INFO"}


def _devnull() -> TextIO:
    return open(os.devnull, "w")


def _alone(*, metrics: bool, access_log: bool, request_id: bool) -> FastAPI:
    """The bare app with the observability middleware (and the core's request id) and a
    lifespan that provides the plugin's state with only the asked-for parts."""
    settings = ObservabilitySettings(_env_file=None)
    redactor = Redactor()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        with ExitStack() as stack:
            if access_log:
                installed = install_logging(
                    redactor=redactor,
                    fmt=LogFormat.JSON,
                    level="INFO",
                    tracebacks=False,
                    stream=stack.enter_context(_devnull()),
                )
                stack.callback(installed.restore)
            registry = CollectorRegistry()
            state = Observability(
                settings,
                redactor,
                MetricsState(registry, HttpMetrics(registry, settings.metrics_buckets))
                if metrics
                else None,
                AccessLog(redactor) if access_log else None,
                None,
            )
            yield {"observability": state}

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(ObservabilityMiddleware)
    if request_id:
        app.add_middleware(RequestIdMiddleware)
    return add_bench_route(app)


def obs_request_id() -> FastAPI:
    return _alone(metrics=False, access_log=False, request_id=True)


def obs_access_log() -> FastAPI:
    return _alone(metrics=False, access_log=True, request_id=False)


def obs_metrics() -> FastAPI:
    return _alone(metrics=True, access_log=False, request_id=False)


def _settings(**overrides: Any) -> FasterSettings:
    return FasterSettings(
        _env_file=None,
        env=Environment.PRODUCTION,
        plugin_settings={"observability": {**QUIET, "metrics_endpoint": False}},
        **overrides,
    )


def obs_plugin() -> FastAPI:
    """create_app with only the essential errors plugin and observability (logs, access log,
    metrics; Sentry off: it costs nothing per request without an error)."""
    settings = _settings(disabled_plugins=["health", "introspection"])
    plugin = ObservabilityPlugin(log_stream=_devnull())
    return add_bench_route(create_app(settings, plugins=[plugin], load_entrypoints=False))


def obs_on_core_default() -> FastAPI:
    plugin = ObservabilityPlugin(log_stream=_devnull())
    return add_bench_route(create_app(_settings(), plugins=[plugin], load_entrypoints=False))


def variants() -> list[Variant]:
    return [
        Variant(
            "obs-request-id",
            obs_request_id,
            "bare + the core's request id + correlation context (trace id, route, user)",
            Target(max_overhead_us=4.0),
            expect_headers=("x-request-id",),
            server=False,
        ),
        Variant(
            "obs-access-log",
            obs_access_log,
            "bare + one JSON access-log line per request (formatted, redacted, to /dev/null)",
            Target(max_overhead_us=10.0),
            server=False,
        ),
        Variant(
            "obs-metrics",
            obs_metrics,
            "bare + requests counter, latency histogram, in-progress gauge",
            Target(max_overhead_us=5.0),
            server=False,
        ),
        Variant(
            "obs-plugin",
            obs_plugin,
            "create_app: errors + http + observability (request id, logs, access log, metrics)",
            Target(min_ratio=0.90, note="issue: >= 0.90x bare"),
            expect_headers=("x-request-id",),
        ),
        Variant(
            "obs-on-core-default",
            obs_on_core_default,
            "core-default + observability: the plugin's own share",
            Target(min_ratio=0.90),
            baseline="core-default",
            expect_headers=("x-request-id",),
        ),
    ]
