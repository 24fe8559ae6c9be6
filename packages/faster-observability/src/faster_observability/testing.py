"""The pytest plugin (entry point `pytest11`): fixtures for testing apps that use observability.

Fixtures:
    sentry_ingest: (session) a loopback HTTP server standing in for Sentry; `.dsn` points at it.
    sentry_events: `sentry_ingest`, emptied for this test: `.events`, `.envelopes`, `.raw`,
        `.wait_for_events(n)`.
    metrics_registry: a fresh, isolated `prometheus_client.CollectorRegistry`.
    captured_logs: a `LogCapture`; its `.stream` receives the app's log lines, `.lines()` and
        `.json()` read them back.
    observability_plugin: `ObservabilityPlugin(registry=metrics_registry,
        log_stream=captured_logs.stream)`, to pass to `faster_app_factory`.

Helpers: `parse_metrics(text)` parses an exposition with prometheus-client's own parser.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from faster_observability._ingest import Envelope, SentryIngest
from faster_observability.plugin import ObservabilityPlugin

__all__ = [
    "Envelope",
    "LogCapture",
    "MetricsSnapshot",
    "SentryIngest",
    "captured_logs",
    "metrics_registry",
    "observability_plugin",
    "parse_metrics",
    "sentry_events",
    "sentry_ingest",
]


@dataclass(slots=True)
class LogCapture:
    """A stream for the app's log lines, and ways to read them back."""

    stream: io.StringIO = field(default_factory=io.StringIO)

    def lines(self) -> list[str]:
        self.flush()
        return self.stream.getvalue().splitlines()

    def flush(self) -> None:
        """Have the handlers writing to `stream` write the lines they hold back in a batch
        (the access log's)."""
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                handler.flush()

    def json(self) -> list[dict[str, Any]]:
        """Every line parsed as JSON (fails on a line that is not)."""
        return [json.loads(line) for line in self.lines()]

    def clear(self) -> None:
        self.flush()
        self.stream.seek(0)
        self.stream.truncate()


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Samples of one scrape: `{(sample name, sorted labels): value}`."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value, 0 when the series does not exist."""
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum over every series of `name` whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= set(ls))

    def series(self, name: str) -> list[dict[str, str]]:
        return [dict(ls) for (n, ls) in self.samples if n == name]


def parse_metrics(text: str) -> MetricsSnapshot:
    """Parse a Prometheus text exposition with prometheus-client's own parser."""
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return MetricsSnapshot(samples)


@pytest.fixture(scope="session")
def sentry_ingest() -> Iterator[SentryIngest]:
    with SentryIngest() as ingest:
        yield ingest


@pytest.fixture
def sentry_events(sentry_ingest: SentryIngest) -> SentryIngest:
    sentry_ingest.clear()
    return sentry_ingest


@pytest.fixture
def metrics_registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def captured_logs() -> LogCapture:
    return LogCapture()


@pytest.fixture
def observability_plugin(
    metrics_registry: CollectorRegistry, captured_logs: LogCapture
) -> ObservabilityPlugin:
    return ObservabilityPlugin(registry=metrics_registry, log_stream=captured_logs.stream)
