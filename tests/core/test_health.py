"""Health endpoints: live, ready (critical checks) and detail; concurrency and timeouts
(faster_core/health.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import FastAPI

from faster_core import CheckResult, HealthCheck, PluginInfo, hookimpl
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio


async def passing(app: FastAPI) -> None:
    await asyncio.sleep(0.05)


async def degraded(app: FastAPI) -> CheckResult:
    return CheckResult(degraded=True, detail="replica lag 3s")


async def failing(app: FastAPI) -> None:
    raise ConnectionError("password=hunter2 refused")


async def hanging(app: FastAPI) -> None:
    await asyncio.sleep(3600)


class ChecksPlugin:
    def __init__(self, *checks: HealthCheck) -> None:
        self.checks = list(checks)

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("checks")

    @hookimpl
    def faster_health_checks(self) -> list[HealthCheck]:
        return self.checks


async def test_live_answers_without_running_checks(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(ChecksPlugin(HealthCheck("hang", hanging, timeout=5)))
    async with client_for(app) as client:
        started = time.perf_counter()
        response = await client.get("/health/live")
    assert response.status_code == 200
    assert time.perf_counter() - started < 1


async def test_all_passing_checks_are_ready(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(
        ChecksPlugin(HealthCheck("db", passing), HealthCheck("cache", degraded, critical=False))
    )
    async with client_for(app) as client:
        ready = await client.get("/health/ready")
        detail = await client.get("/health")

    assert ready.status_code == 200
    assert [c["name"] for c in ready.json()["checks"]] == ["db"]
    body = detail.json()
    assert body["status"] == "degraded"
    db, cache = body["checks"]
    assert db["status"] == "pass"
    assert db["critical"] is True
    assert db["latency_ms"] >= 50
    assert cache == cache | {"status": "pass", "degraded": True, "detail": "replica lag 3s"}


async def test_failing_critical_check_makes_ready_a_503_problem(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(ChecksPlugin(HealthCheck("db", failing), HealthCheck("ok", passing)))
    async with client_for(app) as client:
        ready = await client.get("/health/ready")
        detail = await client.get("/health")

    for response in (ready, detail):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"]
        assert "hunter2" not in response.text
    failed = next(c for c in ready.json()["checks"] if c["name"] == "db")
    assert failed["status"] == "fail"
    assert failed["detail"] == "failed: ConnectionError"
    assert "db" in ready.json()["detail"]


async def test_hanging_check_fails_at_its_timeout_without_hanging_the_endpoint(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(
        ChecksPlugin(HealthCheck("frozen", hanging, timeout=0.3), HealthCheck("db", passing))
    )
    async with client_for(app) as client:
        started = time.perf_counter()
        response = await client.get("/health/ready")
        elapsed = time.perf_counter() - started

    assert response.status_code == 503
    assert 0.3 <= elapsed < 2
    frozen = next(c for c in response.json()["checks"] if c["name"] == "frozen")
    assert frozen["detail"] == "timed out after 0.3s"


async def test_checks_run_concurrently(faster_app_factory: AppFactory) -> None:
    async def slow(app: FastAPI) -> None:
        await asyncio.sleep(0.3)

    checks = [HealthCheck(f"slow{i}", slow) for i in range(5)]
    async with client_for(faster_app_factory(ChecksPlugin(*checks))) as client:
        started = time.perf_counter()
        response = await client.get("/health")
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed < 1.2  # five 0.3 s checks in sequence would take 1.5 s


async def test_failing_non_critical_check_is_degraded_not_unready(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(
        ChecksPlugin(HealthCheck("db", passing), HealthCheck("sentry", failing, critical=False))
    )
    async with client_for(app) as client:
        ready = await client.get("/health/ready")
        detail = await client.get("/health")

    assert ready.status_code == 200
    assert detail.status_code == 200
    assert detail.json()["status"] == "degraded"
    sentry = next(c for c in detail.json()["checks"] if c["name"] == "sentry")
    assert sentry["status"] == "fail"
    assert sentry["degraded"] is True


async def test_default_timeout_comes_from_settings(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(ChecksPlugin(HealthCheck("frozen", hanging)), health_timeout=0.2)
    async with client_for(app) as client:
        response = await client.get("/health/ready")
    assert response.json()["checks"][0]["detail"] == "timed out after 0.2s"


def test_two_checks_with_one_name_are_refused_naming_both_plugins(
    faster_app_factory: AppFactory,
) -> None:
    class Other(ChecksPlugin):
        @hookimpl
        def faster_plugin_info(self) -> PluginInfo:
            return PluginInfo("other")

    with pytest.raises(
        Exception, match="'checks' and 'other' both declare a health check named 'db'"
    ):
        faster_app_factory(
            ChecksPlugin(HealthCheck("db", passing)), Other(HealthCheck("db", passing))
        )


async def test_health_endpoints_are_documented_listed_and_answer_wrong_methods_with_405(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(ChecksPlugin(HealthCheck("db", passing)), debug=True)
    async with client_for(app) as client:
        schema = (await client.get("/openapi.json")).json()
        routes = (await client.get("/-/routes")).json()
        wrong_method = await client.post("/health/ready")

    assert {"/health/live", "/health/ready", "/health"} <= schema["paths"].keys()
    assert {"/health/live", "/health/ready", "/health"} <= {r["path"] for r in routes}
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"
    assert wrong_method.headers["content-type"] == "application/problem+json"


async def test_probes_by_ip_pass_the_trusted_hosts_check(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(trusted_hosts=["api.example"])
    async with client_for(app, base_url="http://10.0.0.7:8000") as client:
        probe = await client.get("/health/live")
        other = await client.get("/anything")

    assert probe.status_code == 200
    assert probe.headers["x-request-id"]
    assert other.status_code == 400
