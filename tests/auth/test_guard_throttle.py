"""Sign-in and reset limits per account and per IP, in the database and in Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from faster_auth.guard import Guard
from faster_auth.throttle import TrustedProxies, client_ip
from faster_core.testing import client_for
from tests.auth.test_accounts import PASSWORD, login, register
from tests.auth.test_guard_revocation import guard_app

pytestmark = pytest.mark.anyio

LIMITS = {"sign_in_max_failures": 3, "sign_in_max_failures_per_ip": 8}


@pytest.fixture(params=["database", "redis"])
def app(request: pytest.FixtureRequest, tmp_path: Path, private_pem: str) -> FastAPI:
    redis: dict[str, Any] | None = None
    if request.param == "redis":
        pytest.importorskip("faster_redis", reason="faster-redis is not installed")
        redis = request.getfixturevalue("redis_test_settings")
    return guard_app(tmp_path / "app.db", private_pem, redis, **LIMITS)


@pytest.fixture
async def client(app: FastAPI) -> Any:
    async with client_for(app) as client:
        yield client


def xff(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{n}"}


async def test_an_account_is_locked_after_the_failure_limit_whatever_its_existence(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "ada@example.com")
    for email in ("ada@example.com", "nobody@example.com"):
        failures = [(await login(client, email, "wrong password!")).status_code for _ in range(3)]
        assert failures == [401, 401, 401]
    locked = await login(client, "ada@example.com", PASSWORD)  # even the right password
    unknown = await login(client, "nobody@example.com", PASSWORD)
    assert locked.status_code == unknown.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    for response in (locked, unknown):  # when the oldest failure leaves the window
        assert 3500 <= int(response.headers["retry-after"]) <= 3600
    strip = ("instance", "request_id")
    assert {k: v for k, v in locked.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }


async def test_rotating_x_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_limit(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "ada@example.com")
    statuses = [
        (
            await client.post(
                "/auth/login",
                json={"email": "ada@example.com", "password": "wrong password!"},
                headers=xff(n),
            )
        ).status_code
        for n in range(6)
    ]
    assert statuses == [401, 401, 401, 429, 429, 429]
    # Refused attempts are not failures: the peer has 3 failures so far, 5 more reach its limit
    # whatever accounts they try and whatever addresses they claim.
    others = [
        (
            await client.post(
                "/auth/login",
                json={"email": f"user{n}@example.com", "password": "wrong password!"},
                headers=xff(100 + n),
            )
        ).status_code
        for n in range(6)
    ]
    assert others == [401] * 5 + [429]


async def test_the_oauth2_form_shares_the_account_counter(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")
    for _ in range(3):
        await login(client, "ada@example.com", "wrong password!")
    form = {"grant_type": "password", "username": "ada@example.com", "password": PASSWORD}
    assert (await client.post("/auth/token", data=form)).status_code == 429


async def test_successful_sign_ins_are_not_counted(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")
    statuses = {(await login(client, "ada@example.com")).status_code for _ in range(5)}
    assert statuses == {200}


async def test_reset_requests_are_limited_per_account(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")
    body = {"email": "ada@example.com"}
    statuses = [
        (await client.post("/auth/password-reset", json=body)).status_code for _ in range(4)
    ]
    assert statuses[-1] == 429
    assert statuses[0] != 429


async def test_the_limit_is_per_window(app: FastAPI, client: httpx.AsyncClient) -> None:
    guard: Guard = app.state.auth_guard
    keys = guard.throttle.keys({"client": ("198.51.100.7", 1), "headers": []}, "a@example.com")
    for _ in range(3):
        await guard.throttle.record_failure(keys)
    now = guard.throttle._clock()
    guard.throttle._clock = lambda: now + 3601
    await guard.throttle.check(keys)  # the failures have left the window


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    trusted = TrustedProxies(["10.0.0.0/8"])
    headers = [(b"x-forwarded-for", b"1.1.1.1, 203.0.113.9, 10.0.0.2")]
    assert client_ip({"client": ("10.0.0.1", 1), "headers": headers}, trusted) == "203.0.113.9"
    assert client_ip({"client": ("192.0.2.1", 1), "headers": headers}, trusted) == "192.0.2.1"
    assert client_ip({"client": ("10.0.0.1", 1), "headers": []}, trusted) == "10.0.0.1"


def test_a_malformed_trusted_proxy_names_the_setting() -> None:
    with pytest.raises(Exception, match="FASTER_AUTH_TRUSTED_PROXIES"):
        TrustedProxies(["not-an-ip"], setting="FASTER_AUTH_TRUSTED_PROXIES")
