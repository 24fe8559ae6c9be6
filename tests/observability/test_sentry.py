"""Sentry through the real SDK to a loopback ingest (faster_observability/sentry.py)."""

from __future__ import annotations

import secrets

import pytest
import sentry_sdk

from faster_core.testing import client_for
from faster_observability.testing import SentryIngest
from tests.observability.apps import make_jwt
from tests.observability.conftest import MakeApp

pytestmark = pytest.mark.anyio


def fragments(secret: str, size: int = 16) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def leaked(secret_values: list[str], raw: bytes) -> list[str]:
    text = raw.decode("utf-8", "replace")
    return [f for secret in secret_values for f in fragments(secret) if f in text]


async def send_secrets(make_app: MakeApp, dsn: str, **settings: object) -> list[str]:
    jwt = make_jwt()
    cookie = secrets.token_urlsafe(24)
    query_token = secrets.token_urlsafe(24)
    password = secrets.token_urlsafe(18)
    refresh_token = secrets.token_urlsafe(30)
    app = make_app(sentry_dsn=dsn, **settings)
    async with client_for(app) as client:
        response = await client.post(
            f"/refresh?access_token={query_token}",
            headers={"Authorization": f"Bearer {jwt}", "Cookie": f"session={cookie}"},
            json={"username": "ada", "password": password, "refresh_token": refresh_token},
        )
        assert response.status_code == 500
    return [jwt, cookie, query_token, password, refresh_token]


async def test_no_fragment_of_any_secret_reaches_sentry(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    secret_values = await send_secrets(make_app, sentry_events.dsn)

    events = sentry_events.wait_for_events(1)
    assert len(events) == 1
    assert b"[REDACTED]" in sentry_events.raw  # the secrets got there, and were scrubbed
    assert leaked(secret_values, sentry_events.raw) == []


async def test_secrets_stay_out_even_with_local_variables_on(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    secret_values = await send_secrets(
        make_app, sentry_events.dsn, sentry_include_local_variables=True
    )

    events = sentry_events.wait_for_events(1)
    frames = events[0]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert any(frame.get("vars") for frame in frames)  # locals were sent, scrubbed
    assert leaked(secret_values, sentry_events.raw) == []


async def test_event_carries_request_id_route_and_environment(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn, sentry_release="demo@1.2.3")
    async with client_for(app) as client:
        response = await client.post(
            "/refresh",
            headers={"X-Request-ID": "req-sentry-1"},
            json={"username": "ada", "password": "pw", "refresh_token": "rt"},
        )

    assert response.status_code == 500
    (event,) = sentry_events.wait_for_events(1)
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["tags"]["route"] == "/refresh"
    assert event["tags"]["method"] == "POST"
    assert event["environment"] == "test"
    assert event["release"] == "demo@1.2.3"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"


async def test_not_found_and_validation_errors_produce_no_event(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn)
    async with client_for(app) as client:
        missing = await client.get("/no/such/path")
        invalid = await client.post("/login", json={"username": "ada"})
        wrong_type = await client.get("/items/not-a-number")
        failing = await client.post(
            "/refresh", json={"username": "a", "password": "p", "refresh_token": "r"}
        )

    assert (missing.status_code, invalid.status_code, wrong_type.status_code) == (404, 422, 422)
    assert failing.status_code == 500
    events = sentry_events.wait_for_events(1)
    assert [e["tags"]["route"] for e in events] == ["/refresh"]  # exactly one, the 500


async def test_a_handled_5xx_problem_is_reported(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn)
    async with client_for(app) as client:
        assert (await client.get("/unavailable")).status_code == 503
    (event,) = sentry_events.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ServiceUnavailableError"


async def test_the_reported_status_set_is_configurable(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn, sentry_capture_statuses="404,500")
    async with client_for(app) as client:
        assert (await client.get("/unavailable")).status_code == 503
        assert (await client.get("/no/such/path")).status_code == 404
    events = sentry_events.wait_for_events(1)
    assert [e["exception"]["values"][-1]["type"] for e in events] == ["HTTPException"]


async def test_capture_exception_helper_adds_context_redacted(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn)
    async with client_for(app) as client:
        response = await client.get("/report", headers={"X-Request-ID": "req-report"})

    (event,) = sentry_events.wait_for_events(1)
    assert response.json()["event_id"] == event["event_id"]
    assert event["extra"]["order"] == "o-1"
    assert event["extra"]["api_key"] == "[REDACTED]"
    assert event["tags"]["request_id"] == "req-report"


async def test_without_a_dsn_nothing_is_started_or_sent(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app()
    async with client_for(app) as client:
        response = await client.post(
            "/refresh", json={"username": "a", "password": "p", "refresh_token": "r"}
        )
        report = await client.get("/report")
        health = await client.get("/health")

    assert response.status_code == 500
    assert report.json() == {"event_id": None}
    assert "sentry" not in [check["name"] for check in health.json()["checks"]]
    assert sentry_events.requests == 0


async def test_shutdown_flushes_and_restores_the_previous_client(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    before = sentry_sdk.get_global_scope().client
    app = make_app(sentry_dsn=sentry_events.dsn)
    async with client_for(app) as client:
        assert sentry_sdk.get_client().is_active()
        health = await client.get("/health")
        await client.post("/refresh", json={"username": "a", "password": "p", "refresh_token": "r"})
        # No explicit flush: leaving the lifespan must deliver the event.

    assert sentry_sdk.get_global_scope().client is before
    assert not sentry_sdk.get_client().is_active()
    assert len(sentry_events.events) == 1
    (check,) = [c for c in health.json()["checks"] if c["name"] == "sentry"]
    assert check["status"] == "pass"
    assert check["critical"] is False


async def test_health_reports_sentry_degraded_when_its_transport_is_down(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn)
    async with client_for(app) as client:
        app.state.observability.sentry.client.transport.kill()
        app.state.observability.sentry.client.transport = None
        health = await client.get("/health")
        ready = await client.get("/health/ready")

    (check,) = [c for c in health.json()["checks"] if c["name"] == "sentry"]
    assert check["status"] == "fail"
    assert check["degraded"] is True
    assert ready.status_code == 200


async def test_breadcrumbs_never_cross_requests(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn)
    async with client_for(app) as client:
        await client.get("/items/424242")  # logs "item 424242 read" in its own scope
        await client.post("/refresh", json={"username": "a", "password": "p", "refresh_token": "r"})

    (event,) = sentry_events.wait_for_events(1)
    # The app's own lines only: the test client's (httpx) are logged outside any request.
    messages = [
        crumb.get("message", "")
        for crumb in event["breadcrumbs"]["values"]
        if crumb.get("category") == "tests.observability.demo"
    ]
    assert any(m.startswith("refreshing with token") for m in messages)
    assert not any("424242" in m for m in messages)


async def test_sampled_traces_are_named_by_route_template(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn, sentry_traces_sample_rate=1.0)
    async with client_for(app) as client:
        await client.get("/items/7")
        await client.get(f"/secret/{secrets.token_hex(8)}")

    names = sorted(t["transaction"] for t in sentry_events.of_type("transaction"))
    assert names == ["GET /items/{item_id}", "GET <unmatched>"]


async def test_no_transactions_without_a_traces_sample_rate(
    make_app: MakeApp, sentry_events: SentryIngest
) -> None:
    app = make_app(sentry_dsn=sentry_events.dsn)
    async with client_for(app) as client:
        await client.get("/items/7")
    assert sentry_events.of_type("transaction") == []
