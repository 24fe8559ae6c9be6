"""Prometheus metrics: an app-scoped registry, the HTTP metrics and multi-process mode.

Each app gets its own `CollectorRegistry`, so two apps in one process never collide. Requests
are labelled by method, route template (never the raw path: every unmatched path shares the
label `<unmatched>`) and status class, so the number of series stays bounded whatever URLs
clients try. With `PROMETHEUS_MULTIPROC_DIR` set, values live in per-process files there and a
scrape aggregates every worker's.
"""

from __future__ import annotations

import math
import os
import time
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import metrics as prometheus_metrics
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client import values as prometheus_values
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from faster_observability.exceptions import MultiprocessMetricsError
from faster_observability.settings import ObservabilitySettings

__all__ = [
    "UNMATCHED_ROUTE",
    "HttpMetrics",
    "MetricsState",
    "SharedHttpMetrics",
    "http_metrics",
    "multiprocess_directory",
]

UNMATCHED_ROUTE = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_STATUS_CLASSES = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")
_MAX_CHILDREN = 10_000
_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_directory(settings: ObservabilitySettings) -> Path | None:
    """The multi-process directory when that mode is on, checked to work; `None` when off.

    Raises:
        MultiprocessMetricsError: the mode is asked for but cannot work, naming the variable.
    """
    raw = os.environ.get(_ENV) or os.environ.get(_ENV.lower())
    wanted = settings.metrics_multiprocess
    if wanted is None:
        wanted = bool(raw)
    if not wanted:
        return None
    if not raw:
        raise MultiprocessMetricsError(
            "FASTER_OBSERVABILITY_METRICS_MULTIPROCESS is true but PROMETHEUS_MULTIPROC_DIR is "
            "not set: set it to an empty directory shared by the workers"
        )
    path = Path(raw)
    if not path.is_dir():
        raise MultiprocessMetricsError(
            f"PROMETHEUS_MULTIPROC_DIR={raw} is not a directory: create it (empty) before the "
            "workers start"
        )
    if not os.access(path, os.W_OK):
        raise MultiprocessMetricsError(f"PROMETHEUS_MULTIPROC_DIR={raw} is not writable")
    if prometheus_values.ValueClass is prometheus_values.MutexValue:
        raise MultiprocessMetricsError(
            "PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported, so metrics "
            "would stay per process: set it in the environment before the process starts"
        )
    return path


def _class_index(status: int) -> int:
    """`status // 100`, or 0 for a status outside 100-599: the index of its class label."""
    index = status // 100
    return index if 0 < index < len(_STATUS_CLASSES) else 0


def _method_label(method: str) -> str:
    return method if method in _METHODS else "OTHER"


_REQUESTS = ("http_requests", "HTTP requests answered.")
_LATENCY = ("http_request_duration_seconds", "Time from the request to the end of its response.")
_IN_PROGRESS = ("http_requests_in_progress", "HTTP requests being handled.")
_LABELS = ("method", "route", "status_class")


class _InProgress:
    """The in-progress count of one method: `inc()` and `dec()` as a gauge child has them."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self) -> None:
        self.value += 1

    def dec(self) -> None:
        self.value -= 1


class HttpMetrics(Collector):
    """Requests total, latency histogram and in-progress gauge of one app, in this process.

    Recorded for every request, so they are plain numbers (no lock, no label lookup: the
    middleware always runs on the event loop's thread) and become Prometheus metric families
    only when the registry is collected. A series is `[sum of seconds, created, bucket counts]`
    (each bucket counted alone, made cumulative at collection); its key is already bounded
    (method label, route template, status // 100).
    """

    def __init__(self, registry: CollectorRegistry, buckets: list[float]) -> None:
        self.bounds = sorted(bound for bound in buckets if bound != math.inf)
        # The `le` labels, written as prometheus-client's own histogram writes them.
        upper = [floatToGoString(bound) for bound in self.bounds]  # type: ignore[no-untyped-call]
        self._upper: list[str] = [*upper, "+Inf"]
        self._series: dict[tuple[str, str, int], list[float]] = {}
        self._in_progress: dict[str, _InProgress] = {}  # by method label
        self._gauges: dict[str, _InProgress] = {}  # by known method, to skip the label step
        # prometheus-client's `disable_created_metrics()` switch, honoured as its metrics do.
        self._created = bool(getattr(prometheus_metrics, "_use_created", True))
        registry.register(self)

    def started(self, method: str) -> _InProgress:
        """Count a request in progress; returns the gauge to `dec()` when it ends."""
        gauge = self._gauges.get(method)
        if gauge is None:
            gauge = self._in_progress.setdefault(_method_label(method), _InProgress())
            if method in _METHODS:
                self._gauges[method] = gauge
        gauge.value += 1
        return gauge

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """Count a finished request and its duration."""
        if method not in _METHODS:
            method = "OTHER"
        index = status // 100
        if not 0 < index < len(_STATUS_CLASSES):
            index = 0
        key = (method, route or UNMATCHED_ROUTE, index)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = [0.0, time.time()] + [0] * len(self._upper)
        series[0] += seconds
        series[2 + bisect_left(self.bounds, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(*_REQUESTS, labels=_LABELS)
        latency = HistogramMetricFamily(*_LATENCY, labels=_LABELS)
        created: list[Sample] = []
        for (method, route, index), series in list(self._series.items()):
            labels = (method, route, _STATUS_CLASSES[index])
            counts = list(accumulate(series[2:]))
            requests.add_metric(labels, counts[-1], created=series[1] if self._created else None)
            latency.add_metric(labels, list(zip(self._upper, counts, strict=True)), series[0])
            if self._created:
                named = dict(zip(_LABELS, labels, strict=True))
                created.append(Sample(f"{_LATENCY[0]}_created", named, series[1]))
        latency.samples += created
        in_progress = GaugeMetricFamily(*_IN_PROGRESS, labels=("method",))
        for method, gauge in list(self._in_progress.items()):
            in_progress.add_metric((method,), gauge.value)
        yield from (requests, latency, in_progress)


class SharedHttpMetrics:
    """`HttpMetrics` for multi-process mode: prometheus-client's own metrics, whose values
    live in the shared directory's files, where a scrape of any worker reads every one's."""

    def __init__(self, registry: CollectorRegistry, buckets: list[float]) -> None:
        self.requests = Counter(*_REQUESTS, _LABELS, registry=registry)
        self.latency = Histogram(*_LATENCY, _LABELS, buckets=buckets, registry=registry)
        self.in_progress = Gauge(
            *_IN_PROGRESS, ("method",), registry=registry, multiprocess_mode="livesum"
        )
        # Label lookups take a lock and hash the tuple each time; children are cached per key.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._gauges: dict[str, Any] = {}

    def started(self, method: str) -> Any:
        """Count a request in progress; returns the gauge to `dec()` when it ends."""
        gauge = self._gauges.get(method)
        if gauge is None:
            gauge = self.in_progress.labels(_method_label(method))
            if len(self._gauges) < _MAX_CHILDREN:
                self._gauges[method] = gauge
        gauge.inc()
        return gauge

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """Count a finished request and its duration."""
        key = (method, route or UNMATCHED_ROUTE, _class_index(status))
        children = self._children.get(key)
        if children is None:
            labels = (_method_label(method), key[1], _STATUS_CLASSES[key[2]])
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            if len(self._children) < _MAX_CHILDREN:
                self._children[key] = children
        counter, histogram = children
        counter.inc()
        histogram.observe(seconds)


def http_metrics(
    registry: CollectorRegistry, buckets: list[float], *, multiprocess: bool
) -> HttpMetrics | SharedHttpMetrics:
    """The HTTP metrics of an app, registered in `registry`."""
    return (SharedHttpMetrics if multiprocess else HttpMetrics)(registry, buckets)


@dataclass(slots=True)
class MetricsState:
    """The app's registry, its HTTP metrics and, in multi-process mode, the shared directory."""

    registry: CollectorRegistry
    http: HttpMetrics | SharedHttpMetrics
    multiprocess_dir: Path | None = None

    def exposition(self) -> bytes:
        """The text exposition a scrape answers with (every worker's values when multi-process)."""
        if self.multiprocess_dir is None:
            return bytes(generate_latest(self.registry))
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(self.multiprocess_dir)
        )
        return bytes(generate_latest(registry))

    def process_exited(self) -> None:
        """Drop this process's live gauges from the shared directory (at shutdown)."""
        if self.multiprocess_dir is not None:
            prometheus_multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
                os.getpid(), str(self.multiprocess_dir)
            )
