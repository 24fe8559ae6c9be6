"""Fixtures for faster-observability's tests (the package's own pytest plugin adds the rest)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from faster_core.testing import AppFactory
from faster_observability import ObservabilityPlugin
from faster_observability.testing import LogCapture
from tests.observability.apps import DemoRoutes

MakeApp = Callable[..., FastAPI]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FASTER_* or multi-process variables from outside, and no `.env` in reach."""
    for name in list(os.environ):
        if name.startswith("FASTER_") or name.upper() == "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_app(
    faster_app_factory: AppFactory, metrics_registry: CollectorRegistry, captured_logs: LogCapture
) -> MakeApp:
    """An app with the observability plugin (captured logs, isolated registry) and the demo
    routes; keyword arguments are the plugin's settings, `core` the core's.

    A registry holds one app's metrics: the first app gets `metrics_registry`, later ones in
    the same test a fresh registry each.
    """
    registries = iter([metrics_registry])

    def make(*, core: dict[str, Any] | None = None, **settings: Any) -> FastAPI:
        registry = next(registries, None) or CollectorRegistry()
        return faster_app_factory(
            ObservabilityPlugin(registry=registry, log_stream=captured_logs.stream),
            DemoRoutes(),
            plugin_settings={"observability": settings},
            **(core or {}),
        )

    return make
