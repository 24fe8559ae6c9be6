"""Metrics for the observability plugin: circuit state, cache and rate-limit outcomes on the
app's registry (faster_redis/metrics.py, plugin.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import pluggy
import pytest
from fastapi import Depends, FastAPI

from faster_core import PluginHost, PluginInfo, hookimpl, hookspec
from faster_core.testing import client_for
from faster_redis import rate_limit
from faster_redis.testing import RedisServer
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio
prometheus_client = pytest.importorskip("prometheus_client")


def _spec_module() -> ModuleType:
    """The agreed hook, as faster-observability publishes it."""
    module = ModuleType("observability_spec")

    @hookspec
    def faster_observability_metrics(registry: Any, host: PluginHost) -> None:
        """Register a plugin's metrics on the app's registry."""

    module.faster_observability_metrics = faster_observability_metrics  # type: ignore[attr-defined]
    return module


class Observability:
    """Stands in for faster-observability: publishes the hook and calls it at start-up."""

    def __init__(self) -> None:
        self.registry = prometheus_client.CollectorRegistry()

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("observability")

    @hookimpl
    def faster_add_hookspecs(self, pm: pluggy.PluginManager) -> None:
        pm.add_hookspecs(_spec_module())

    @hookimpl
    def faster_lifespan(self, host: PluginHost) -> Any:
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[Mapping[str, Any] | None]:
            host.hook.faster_observability_metrics(registry=self.registry, host=host)
            yield None

        return lifespan


def value(registry: Any, name: str, **labels: str) -> float | None:
    result: float | None = registry.get_sample_value(name, labels or None)
    return result


async def test_outcomes_and_circuit_state_are_exported(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    observability = Observability()
    app = build_app({**fault_settings, "circuit_reset_timeout": 30}, observability)

    @app.get("/r", dependencies=[Depends(rate_limit("1/minute"))])
    async def route() -> dict[str, bool]:
        return {"ok": True}

    registry = observability.registry
    async with client_for(app) as client:
        await client.get("/r")
        await client.get("/r")
        await app.state.faster_redis.cache.get_or_compute("k", _seven)
        await app.state.faster_redis.cache.get_or_compute("k", _seven)
        assert value(registry, "faster_redis_circuit_state") == 0
        redis_fault_server.stop()
        for _ in range(4):
            await client.get("/r")
    assert value(registry, "faster_redis_ratelimit_total", outcome="allowed") == 1
    assert value(registry, "faster_redis_ratelimit_total", outcome="denied") == 1
    assert value(registry, "faster_redis_ratelimit_total", outcome="unavailable_open") == 4
    assert value(registry, "faster_redis_cache_total", outcome="miss") == 1
    assert value(registry, "faster_redis_cache_total", outcome="hit") == 1
    assert value(registry, "faster_redis_circuit_state") == 2


async def _seven() -> int:
    return 7
