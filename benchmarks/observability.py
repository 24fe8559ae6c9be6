"""faster-observability's variants: correlation, the access-log line, metrics, the whole plugin.

Each concern is measured alone around the bare app (the core's request id pass telling the
plugin's observer, with the state its lifespan would provide): the correlation context against
`fastapi-bare`, the access line and the metrics against the request id pass alone
(`mw-request-id`), so that their figure is their own; the whole plugin inside the core's
minimal shell against `fastapi-bare`, and on top of the core's defaults against
`core-default`. Log lines go to /dev/null through the real handler (JSON, production settings,
flushed per line as a line-buffered stderr would be), so the cost of rendering and writing a
line is in the figure.

`python -m benchmarks.observability [ROUNDS] [REQUESTS]` is a second, load-robust method for
before/after comparisons on a shared machine: the same apps driven one request at a time,
variants interleaved round by round, keeping each variant's *minimum* per request of wall time
and of this thread's CPU time (other processes' load lengthens rounds, never shortens them).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from typing import Any, TextIO

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from benchmarks.harness import (
    REQUEST_HEADERS,
    SERVER_COST_US,
    Target,
    Variant,
    _Exchange,
    _scope,
    add_bench_route,
    fastapi_bare,
    lifespan,
)
from faster_core import create_app
from faster_core.middleware import RequestIdMiddleware
from faster_core.settings import Environment, FasterSettings
from faster_observability import ObservabilityPlugin, ObservabilitySettings, Redactor
from faster_observability.access_log import AccessLog
from faster_observability.logs import install_logging
from faster_observability.metrics import HttpMetrics, MetricsState
from faster_observability.middleware import ObservabilityObserver
from faster_observability.settings import LogFormat
from faster_observability.state import Observability

__all__ = ["variants"]

QUIET = {"log_format": "json", "log_level": "INFO"}


def _devnull() -> TextIO:
    return open(os.devnull, "w")


def _alone(*, metrics: bool, access_log: bool) -> FastAPI:
    """The bare app with the core's request id pass telling the plugin's observer, and a
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
                    batch_seconds=settings.access_log_batch_seconds,
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
    app.add_middleware(RequestIdMiddleware, observer=ObservabilityObserver())
    return add_bench_route(app)


def obs_request_id() -> FastAPI:
    return _alone(metrics=False, access_log=False)


def obs_access_log() -> FastAPI:
    return _alone(metrics=False, access_log=True)


def obs_metrics() -> FastAPI:
    return _alone(metrics=True, access_log=False)


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
            "+ one JSON access-log line per request (formatted, redacted, to /dev/null)",
            Target(max_overhead_us=10.0),
            baseline="mw-request-id",
            server=False,
        ),
        Variant(
            "obs-metrics",
            obs_metrics,
            "+ requests counter, latency histogram, in-progress gauge",
            Target(max_overhead_us=5.0),
            baseline="mw-request-id",
            server=False,
        ),
        Variant(
            "obs-core-http",
            core_http,
            "create_app: errors + http, production settings (obs-plugin without the plugin)",
            Target(),
            expect_headers=("x-request-id",),
            server=False,
        ),
        Variant(
            "obs-plugin",
            obs_plugin,
            "obs-core-http + observability (context, JSON access log, metrics): its own share",
            Target(min_ratio=0.90, note="issue: the whole plugin >= 0.90x"),
            baseline="obs-core-http",
            expect_headers=("x-request-id",),
        ),
        Variant(
            "obs-core-default-prod",
            core_default_production,
            "core-default on production settings (obs-on-core-default without the plugin)",
            Target(),
            expect_headers=("x-request-id",),
            server=False,
        ),
        Variant(
            "obs-on-core-default",
            obs_on_core_default,
            "obs-core-default-prod + observability: the plugin's share on the core's defaults",
            Target(min_ratio=0.90),
            baseline="obs-core-default-prod",
            expect_headers=("x-request-id",),
        ),
    ]


# -- load-robust minimums: python -m benchmarks.observability [ROUNDS] [REQUESTS] ---------------


def core_http() -> FastAPI:
    """`obs-plugin` without observability: the core's share of that variant."""
    settings = _settings(disabled_plugins=["health", "introspection"])
    return add_bench_route(create_app(settings, load_entrypoints=False))


def core_default_production() -> FastAPI:
    """`obs-on-core-default` without observability: its baseline (production settings)."""
    return add_bench_route(create_app(_settings(), load_entrypoints=False))


def core_request_id() -> FastAPI:
    """The core's request id alone: its share of `obs-request-id`."""
    app = fastapi_bare()
    app.add_middleware(RequestIdMiddleware)
    return app


MINIMUM_VARIANTS: dict[str, tuple[Callable[[], FastAPI], str]] = {
    "fastapi-bare": (fastapi_bare, "fastapi-bare"),
    "core-request-id": (core_request_id, "fastapi-bare"),
    "obs-request-id": (obs_request_id, "fastapi-bare"),
    "obs-access-log": (obs_access_log, "core-request-id"),
    "obs-metrics": (obs_metrics, "core-request-id"),
    "core-http": (core_http, "fastapi-bare"),
    "obs-plugin": (obs_plugin, "fastapi-bare"),
    "core-default-prod": (core_default_production, "fastapi-bare"),
    "obs-on-core-default": (obs_on_core_default, "core-default-prod"),
}


async def _minimums(rounds: int, requests: int) -> dict[str, tuple[float, float]]:
    """`{variant: (min wall µs, min CPU µs)}` per request over `rounds` interleaved rounds."""
    best = {name: (float("inf"), float("inf")) for name in MINIMUM_VARIANTS}
    async with AsyncExitStack() as stack:
        apps = []
        for name, (factory, _) in MINIMUM_VARIANTS.items():
            app = factory()
            apps.append((name, app, await stack.enter_async_context(lifespan(app))))
        for round_ in range(rounds + 1):  # round 0 warms up
            for name, app, state in apps:
                gc.collect()
                cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
                for _ in range(requests):
                    exchange = _Exchange()
                    await app(_scope(REQUEST_HEADERS, state), exchange.receive, exchange.send)
                    if exchange.status != 200:
                        raise RuntimeError(f"{name} answered {exchange.status}")
                wall, cpu = time.perf_counter_ns() - wall, time.thread_time_ns() - cpu
                if round_:
                    low_wall, low_cpu = best[name]
                    per = 1000 * requests
                    best[name] = (min(low_wall, wall / per), min(low_cpu, cpu / per))
    return best


def print_minimums(rounds: int = 15, requests: int = 2000) -> None:
    """Measure `MINIMUM_VARIANTS` and print the table (µs per request, predicted ratio)."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        best = runner.run(_minimums(rounds, requests))
    print(f"{rounds} rounds x {requests:,} sequential requests, minimum per variant")
    columns = ("wall µs", "+µs", "ratio*", "CPU µs", "+µs", "ratio*")
    print(f"{'variant':20} " + " ".join(f"{c:>8}" for c in columns))
    for name, (_, baseline) in MINIMUM_VARIANTS.items():
        cells = []
        for i in (0, 1):
            mine, base = best[name][i], best[baseline][i]
            ratio = (base + SERVER_COST_US) / (mine + SERVER_COST_US)
            cells.append(f"{mine:8.2f} {mine - base:+8.2f} {ratio:8.3f}")
        print(f"{name:20} {cells[0]} {cells[1]}   (vs {baseline})")
    cost = f"{SERVER_COST_US:g}"
    print(f"* predicted server ratio (t_base + {cost}) / (t_variant + {cost})")


if __name__ == "__main__":
    print_minimums(*(int(arg) for arg in sys.argv[1:3]))
