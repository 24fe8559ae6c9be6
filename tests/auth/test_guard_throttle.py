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


def assert_too_many_attempts(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("too-many-attempts")
    assert 1 <= int(response.headers["retry-after"]) <= 3600


async def signed_in_headers(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    await register(client, email)
    token = (await login(client, email)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/password", {"current_password": "wrong password!", "new_password": "x" * 16}),
        ("/auth/me/deactivate", {"password": "wrong password!"}),
    ],
)
async def test_guessing_the_password_of_a_signed_in_account_is_limited(
    client: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    headers = await signed_in_headers(client, "ada@example.com")
    failures = [(await client.post(path, json=body, headers=headers)).status_code for _ in range(3)]
    assert failures == [403, 403, 403]
    # Locked: even the right password is refused before it is checked.
    right = dict(body, **{k: PASSWORD for k in body if k in ("current_password", "password")})
    locked = await client.post(path, json=right, headers=headers)
    assert_too_many_attempts(locked)
    # The limit is the account's: another signed-in user from the same address still gets in.
    other = await signed_in_headers(client, "bob@example.com")
    assert (await client.post(path, json=body, headers=other)).status_code == 403


async def test_a_right_password_confirmation_is_not_counted(client: httpx.AsyncClient) -> None:
    headers = await signed_in_headers(client, "ada@example.com")
    for n in range(4):
        new = f"another fine password {n}"
        current = PASSWORD if n == 0 else f"another fine password {n - 1}"
        changed = await client.post(
            "/auth/password",
            json={"current_password": current, "new_password": new},
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        headers = {"Authorization": f"Bearer {changed.json()['access_token']}"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/password-reset/confirm", {"new_password": "a new fine password"}),
        ("/auth/verify-email/confirm", {}),
    ],
)
async def test_guessing_one_time_tokens_is_limited_per_ip(
    client: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    statuses = [
        (await client.post(path, json={"token": f"guess-{n}", **body}, headers=xff(n))).status_code
        for n in range(10)
    ]
    # 8 refused tokens reach the per-IP limit, whatever address the client claims.
    assert statuses == [404] * 8 + [429, 429]
    assert_too_many_attempts(await client.post(path, json={"token": "guess", **body}))
