"""The example app keeps working (examples/observability_orders.py)."""

from __future__ import annotations

import importlib

import pytest

from faster_core.testing import client_for
from faster_observability.testing import parse_metrics

pytestmark = pytest.mark.anyio


async def test_orders_example_logs_counts_and_correlates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FASTER_OBSERVABILITY_LOG_FORMAT", "json")
    module = importlib.import_module("examples.observability_orders")
    app = module.create_app(
        plugins=[module.ObservabilityPlugin(), module.Orders()], load_entrypoints=False
    )
    async with client_for(app) as client:
        shown = await client.get("/orders/7", headers={"X-Request-ID": "req-order"})
        missing = await client.get("/orders/5000")
        metrics = parse_metrics((await client.get("/metrics")).text)

    assert shown.json() == {"order_id": 7}
    assert missing.status_code == 404
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    assert metrics.value("orders_viewed_total") == 1
    receipt = [line for line in capsys.readouterr().err.splitlines() if "receipt sent" in line]
    assert len(receipt) == 1
    assert '"request_id": "req-order"' in receipt[0]
    assert '"user_id": "user-42"' in receipt[0]
