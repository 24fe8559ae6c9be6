"""Prometheus metrics: exact counts, bounded cardinality, app-scoped registries, the hook for
other plugins, the endpoint's protection and multi-process mode (faster_observability/metrics.py,
metrics_endpoint.py)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest

from faster_core import (
    PluginHost,
    PluginInfo,
    PluginStartupError,
    UnsafeSettingsError,
    hookimpl,
)
from faster_core.testing import AppFactory, client_for
from faster_observability import MultiprocessMetricsError, ObservabilityPlugin
from faster_observability.metrics import HttpMetrics, SharedHttpMetrics
from faster_observability.testing import MetricsSnapshot, parse_metrics
from tests.observability.apps import DemoRoutes
from tests.observability.conftest import MakeApp

pytestmark = pytest.mark.anyio

TOTAL = "http_requests_total"
TOKEN = secrets.token_urlsafe(32)


async def scrape(client: httpx.AsyncClient, **headers: str) -> MetricsSnapshot:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse_metrics(response.text)


async def test_counts_match_the_requests_sent_exactly(make_app: MakeApp) -> None:
    app = make_app(configure_logging=False)
    async with client_for(app) as client:
        for i in range(37):
            await client.get(f"/items/{i}")
        for _ in range(5):
            await client.get("/items/nope")  # 422
        for _ in range(3):
            await client.post(
                "/refresh", json={"username": "a", "password": "p", "refresh_token": "r"}
            )
        await client.get("/no/such/page")
        await client.request("PROPFIND", "/items/1")
        snapshot = await scrape(client)

    route = "/items/{item_id}"
    assert snapshot.value(TOTAL, method="GET", route=route, status_class="2xx") == 37
    assert snapshot.value(TOTAL, method="GET", route=route, status_class="4xx") == 5
    assert snapshot.value(TOTAL, method="POST", route="/refresh", status_class="5xx") == 3
    assert snapshot.value(TOTAL, method="GET", route="<unmatched>", status_class="4xx") == 1
    assert snapshot.value(TOTAL, method="OTHER", route=route, status_class="4xx") == 1
    assert snapshot.total(TOTAL) == 37 + 5 + 3 + 1 + 1
    histogram = snapshot.value(
        "http_request_duration_seconds_count", method="GET", route=route, status_class="2xx"
    )
    assert histogram == 37
    assert snapshot.value("http_requests_in_progress", method="GET") == 1  # the scrape itself


async def test_ten_thousand_random_unknown_paths_add_a_bounded_number_of_series(
    make_app: MakeApp,
) -> None:
    app = make_app(configure_logging=False, access_log=False)
    async with client_for(app) as client:
        await client.get("/items/1")
        await scrape(client)  # so that the scrape's own series exist in both snapshots
        before = await scrape(client)
        for _ in range(100):
            await asyncio.gather(
                *(client.get(f"/{secrets.token_hex(6)}/{secrets.token_hex(4)}") for _ in range(100))
            )
        after = await scrape(client)

    assert len(after.samples) - len(before.samples) <= 20  # one label set: ~16 samples
    assert len(after.series(TOTAL)) == len(before.series(TOTAL)) + 1
    assert after.value(TOTAL, method="GET", route="<unmatched>", status_class="4xx") == 10_000


async def test_in_progress_gauge_counts_requests_being_handled(make_app: MakeApp) -> None:
    app = make_app(configure_logging=False)
    async with client_for(app) as client:
        app.state.gate = asyncio.Event()
        waiting = [asyncio.create_task(client.get("/gate")) for _ in range(3)]
        await asyncio.sleep(0.05)
        during = await scrape(client)
        app.state.gate.set()
        await asyncio.gather(*waiting)
        after = await scrape(client)

    assert during.value("http_requests_in_progress", method="GET") == 4  # 3 + the scrape
    assert after.value("http_requests_in_progress", method="GET") == 1


async def test_two_apps_in_one_process_keep_their_own_registries(
    faster_app_factory: AppFactory,
) -> None:
    first = faster_app_factory(ObservabilityPlugin(), DemoRoutes())
    second = faster_app_factory(ObservabilityPlugin(), DemoRoutes())
    async with client_for(first) as one, client_for(second) as two:
        for _ in range(3):
            await one.get("/items/1")
        await two.get("/items/1")
        first_snapshot, second_snapshot = await scrape(one), await scrape(two)

    assert (
        first_snapshot.value(TOTAL, method="GET", route="/items/{item_id}", status_class="2xx") == 3
    )
    assert (
        second_snapshot.value(TOTAL, method="GET", route="/items/{item_id}", status_class="2xx")
        == 1
    )
    assert (
        first.state.observability.metrics.registry
        is not second.state.observability.metrics.registry
    )


class CacheMetrics:
    """Another plugin registering its metrics through the published hook."""

    def __init__(self) -> None:
        self.hits: Any = None
        self.calls: list[tuple[CollectorRegistry, PluginHost]] = []

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("cache")

    @hookimpl(optionalhook=True)
    def faster_observability_metrics(self, registry: CollectorRegistry, host: PluginHost) -> None:
        self.calls.append((registry, host))
        self.hits = Counter("cache_hits", "Cache hits.", registry=registry)


async def test_other_plugins_register_metrics_through_the_hook(
    faster_app_factory: AppFactory, metrics_registry: CollectorRegistry
) -> None:
    cache = CacheMetrics()
    app = faster_app_factory(ObservabilityPlugin(registry=metrics_registry), cache)
    async with client_for(app) as client:
        cache.hits.inc(4)
        snapshot = await scrape(client)

    assert len(cache.calls) == 1
    assert cache.calls[0][0] is metrics_registry
    assert cache.calls[0][1] is app.state.faster
    assert snapshot.value("cache_hits_total") == 4


class BrokenMetrics(CacheMetrics):
    @hookimpl(optionalhook=True)
    def faster_observability_metrics(self, registry: CollectorRegistry, host: PluginHost) -> None:
        raise ValueError("Duplicated timeseries in CollectorRegistry")


async def test_a_failing_implementation_stops_start_up_naming_its_plugin(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(ObservabilityPlugin(), BrokenMetrics())
    with pytest.raises(PluginStartupError, match="'cache' failed in faster_observability_metrics"):
        async with client_for(app):
            pass


async def test_a_plugin_implementing_the_hook_works_without_observability(
    faster_app_factory: AppFactory,
) -> None:
    cache = CacheMetrics()
    app = faster_app_factory(cache)
    async with client_for(app) as client:
        assert (await client.get("/health/live")).status_code == 200
    assert cache.calls == []


async def test_token_protects_the_endpoint(make_app: MakeApp) -> None:
    app = make_app(configure_logging=False, metrics_token=TOKEN)
    async with client_for(app) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        await scrape(client, Authorization=f"Bearer {TOKEN}")

    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"


async def test_allow_list_protects_the_endpoint(make_app: MakeApp) -> None:
    async with client_for(make_app(configure_logging=False, metrics_allow="10.0.0.0/8")) as client:
        refused = await client.get("/metrics")
    async with client_for(make_app(configure_logging=False, metrics_allow="127.0.0.1")) as client:
        await scrape(client)

    assert refused.status_code == 403


async def test_production_serves_no_metrics_by_default(make_app: MakeApp) -> None:
    app = make_app(configure_logging=False, core={"env": "production"})
    async with client_for(app) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/items/1")).status_code == 200  # still collected
        assert app.state.observability.metrics.http is not None


async def test_production_with_a_token_serves_metrics(make_app: MakeApp) -> None:
    app = make_app(configure_logging=False, metrics_token=TOKEN, core={"env": "production"})
    async with client_for(app) as client:
        await scrape(client, Authorization=f"Bearer {TOKEN}")


def test_production_refuses_an_unprotected_endpoint_turned_on(make_app: MakeApp) -> None:
    with pytest.raises(UnsafeSettingsError, match="FASTER_OBSERVABILITY_METRICS_ENDPOINT"):
        make_app(metrics_endpoint=True, core={"env": "production"})


async def test_metrics_can_be_switched_off(make_app: MakeApp) -> None:
    app = make_app(configure_logging=False, metrics=False)
    async with client_for(app) as client:
        assert (await client.get("/metrics")).status_code == 404
        health = await client.get("/health")
    assert app.state.observability.metrics is None
    assert "metrics" not in [check["name"] for check in health.json()["checks"]]


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (None, "PROMETHEUS_MULTIPROC_DIR is not set"),
        ("missing", "is not a directory"),
        ("exists", "set after prometheus_client was imported"),
    ],
)
async def test_misconfigured_multiprocess_mode_stops_start_up_clearly(
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str | None,
    message: str,
) -> None:
    if variable is not None:
        directory = tmp_path / variable
        if variable == "exists":
            directory.mkdir()
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    app = make_app(configure_logging=False, metrics_multiprocess=True)
    with pytest.raises(PluginStartupError, match=message) as caught:
        async with client_for(app):
            pass
    assert isinstance(caught.value.__cause__, MultiprocessMetricsError)
    assert "observability" in str(caught.value)


async def test_metrics_health_check_is_non_critical_and_passes(make_app: MakeApp) -> None:
    async with client_for(make_app(configure_logging=False)) as client:
        health = (await client.get("/health")).json()
    (check,) = [c for c in health["checks"] if c["name"] == "metrics"]
    assert (check["status"], check["critical"]) == ("pass", False)


def test_in_process_metrics_expose_what_prometheus_client_metrics_would() -> None:
    # HttpMetrics keeps plain numbers; SharedHttpMetrics (multi-process mode) uses
    # prometheus-client's own metrics. A scrape must not tell them apart.
    buckets = [0.005, 0.01, 0.1, 1.0]
    own, reference = CollectorRegistry(), CollectorRegistry()
    for metrics in (HttpMetrics(own, buckets), SharedHttpMetrics(reference, buckets)):
        gauge = metrics.started("GET")
        metrics.started("PROPFIND")
        for method, route, status, seconds in [
            ("GET", "/items/{item_id}", 200, 0.001),
            ("GET", "/items/{item_id}", 201, 0.5),
            ("GET", None, 404, 20.0),
            ("GET", "/items/{item_id}", 503, 0.01),
            ("PROPFIND", "/items/{item_id}", 405, 0.005),
            ("GET", "/odd", 999, 0.1),
        ]:
            metrics.observe(method, route, status, seconds)
        gauge.dec()

    def samples(
        registry: CollectorRegistry,
    ) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        scraped = parse_metrics(generate_latest(registry).decode()).samples
        return {key: value for key, value in scraped.items() if not key[0].endswith("_created")}

    assert samples(own) == samples(reference)
    created = [
        k for k in parse_metrics(generate_latest(own).decode()).samples if "_created" in k[0]
    ]
    assert len(created) == 2 * 5  # requests and latency, one per series
