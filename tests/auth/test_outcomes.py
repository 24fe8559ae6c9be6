"""Auth outcomes exported through faster-observability: a real app with both plugins, scraped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import faster_auth.plugin
import faster_db.plugin
from faster_auth.outcomes import TOKEN_REJECTION_REASONS, AuthOutcomes, rejection_reason
from faster_core import FasterSettings, create_app
from faster_core.testing import client_for
from tests.auth.app_kit import protected_router
from tests.auth.test_accounts import PASSWORD, login, register

pytestmark = pytest.mark.anyio

prometheus_client = pytest.importorskip("prometheus_client")
observability = pytest.importorskip("faster_observability.plugin")
parser = pytest.importorskip("prometheus_client.parser")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def observed_app(tmp_path: Path, private_pem: str, *, observability_first: bool) -> FastAPI:
    plugin = observability.ObservabilityPlugin(registry=prometheus_client.CollectorRegistry())
    plugins: list[object] = [faster_db.plugin, faster_auth.plugin]
    plugins.insert(0 if observability_first else 2, plugin)
    settings = FasterSettings(
        _env_file=None,
        env="test",
        plugin_settings={
            "db": {"url": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", "auto_migrate": True},
            "auth": {
                "private_key": private_pem,
                "sign_in_max_failures": 3,
                "verify_email_on_register": False,  # no background event to wait for
            },
        },
    )
    app = create_app(settings, plugins=plugins, load_entrypoints=False)
    app.include_router(protected_router())
    return app


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parser.text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("faster_auth_") and sample.name.endswith("_total")
    }


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


async def act(client: httpx.AsyncClient) -> None:
    """One of each outcome (and two of one), in the order a user could cause them."""
    assert (await register(client, "ada@example.com")).status_code == 201
    for email in ("ada@example.com", "ada@example.com", "nobody@example.com"):
        assert (await login(client, email, "wrong password!")).status_code == 401
    spent = {"refresh_token": (await login(client)).json()["refresh_token"]}
    assert (await client.post("/auth/refresh", json=spent)).status_code == 200
    assert (await client.post("/auth/refresh", json=spent)).status_code == 401  # reused
    assert (await client.get("/me")).status_code == 401
    forged = {"Authorization": "Bearer nonsense"}
    assert (await client.get("/me", headers=forged)).status_code == 401
    second = (await login(client)).json()
    bearer = {"Authorization": f"Bearer {second['access_token']}"}
    assert (await client.get("/me", headers=bearer)).status_code == 200
    ended = {"refresh_token": second["refresh_token"]}
    assert (await client.post("/auth/logout", json=ended, headers=bearer)).status_code == 204
    assert (await client.get("/me", headers=bearer)).status_code == 401  # revoked
    third = (await login(client)).json()
    bearer = {"Authorization": f"Bearer {third['access_token']}"}
    assert (await client.post("/auth/logout-all", headers=bearer)).status_code == 204
    for _ in range(3):
        await login(client, "eve@example.com", "wrong password!")
    assert (await login(client, "eve@example.com", PASSWORD)).status_code == 429


EXPECTED: Samples = {
    key("faster_auth_events_total", event="register", outcome="success", reason=""): 1,
    key("faster_auth_events_total", event="login", outcome="failure", reason="password"): 2,
    key("faster_auth_events_total", event="login", outcome="failure", reason="unknown"): 4,
    key("faster_auth_events_total", event="login", outcome="success", reason=""): 3,
    key("faster_auth_events_total", event="refresh_reuse_detected", outcome="denied", reason=""): 1,
    key("faster_auth_events_total", event="logout", outcome="success", reason=""): 1,
    key("faster_auth_events_total", event="logout_all", outcome="success", reason=""): 1,
    key("faster_auth_refreshes_total", outcome="success"): 1,
    key("faster_auth_refreshes_total", outcome="reused"): 1,
    key("faster_auth_token_rejections_total", reason="missing"): 1,
    key("faster_auth_token_rejections_total", reason="invalid"): 1,
    key("faster_auth_token_rejections_total", reason="revoked"): 1,
    key("faster_auth_revocations_total", kind="token"): 1,
    key("faster_auth_revocations_total", kind="user"): 1,
    key("faster_auth_throttled_total", route="login"): 1,
}


@pytest.mark.parametrize("observability_first", [True, False], ids=["obs-first", "auth-first"])
async def test_metrics_count_exactly_the_outcomes_that_happened(
    tmp_path: Path, private_pem: str, observability_first: bool
) -> None:
    app = observed_app(tmp_path, private_pem, observability_first=observability_first)
    async with client_for(app) as client:
        assert await scrape(client) == {}  # declared, nothing counted yet
        await act(client)
        assert await scrape(client) == EXPECTED


async def test_each_app_counts_its_own_outcomes(tmp_path: Path, private_pem: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = observed_app(tmp_path / "a", private_pem, observability_first=True)
    second = observed_app(tmp_path / "b", private_pem, observability_first=True)
    async with client_for(first) as one, client_for(second) as other:
        assert (await register(one, "ada@example.com")).status_code == 201
        registered = key("faster_auth_events_total", event="register", outcome="success", reason="")
        assert (await scrape(one))[registered] == 1
        assert registered not in await scrape(other)


def test_counting_without_a_registry_does_nothing() -> None:
    outcomes = AuthOutcomes()
    outcomes.event("login", "success")
    outcomes.token_rejected("expired")
    registry = prometheus_client.CollectorRegistry()
    outcomes.bind(registry)
    outcomes.token_rejected("expired")
    value: Any = registry.get_sample_value(
        "faster_auth_token_rejections_total", {"reason": "expired"}
    )
    assert value == 1.0


def test_rejection_reasons_are_a_bounded_set() -> None:
    reasons = {rejection_reason(r) for r in ("expired", "InvalidSignatureError", "x" * 500, "")}
    assert reasons <= TOKEN_REJECTION_REASONS
    assert rejection_reason("InvalidSignatureError") == "invalid"
