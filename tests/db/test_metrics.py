"""Pool gauges on faster-observability's registry (faster_db/metrics.py)."""

from __future__ import annotations

import pytest

import faster_db.plugin
from faster_core.testing import client_for
from tests.db.app_kit import make_app

pytestmark = pytest.mark.anyio


async def test_pool_gauges_follow_the_running_app(sqlite_url: str) -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    registry = prometheus_client.CollectorRegistry()
    app, _ = make_app(sqlite_url)
    host = app.state.faster
    faster_db.plugin.faster_observability_metrics(registry=registry, host=host)
    assert registry.get_sample_value("faster_db_pool_capacity") is None  # not started yet
    async with client_for(app) as client:
        assert (await client.get("/unused")).status_code == 200
        assert registry.get_sample_value("faster_db_pool_capacity") == 15.0
        assert registry.get_sample_value("faster_db_pool_checked_out") == 0.0
    assert registry.get_sample_value("faster_db_pool_capacity") is None
