"""With the redis plugin on, account changes reach every worker through the revocation layer
(accounts.py `forget_tokens_of` -> the guard's Redis store and pub/sub)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from faster_core.testing import client_for
from tests.auth.acct_kit import NEW_PASSWORD, PASSWORD, accounts_app, bearer, signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    pytest.importorskip("faster_redis", reason="faster-redis is not installed")
    settings: dict[str, Any] = request.getfixturevalue("redis_test_settings")
    return settings


async def refused_within(client: httpx.AsyncClient, headers: dict[str, str], limit: float) -> None:
    started = time.monotonic()
    while (await client.get("/me", headers=headers)).status_code == 200:
        assert time.monotonic() - started < limit, "still accepted"


async def test_password_change_and_ban_by_email_reach_another_worker(
    tmp_path: Path, private_pem: str, redis_settings: dict[str, Any]
) -> None:
    worker_a = accounts_app(tmp_path, private_pem, redis=redis_settings)
    worker_b = accounts_app(tmp_path, private_pem, redis=redis_settings)
    async with client_for(worker_a) as a, client_for(worker_b) as b:
        _, admin = await signed_in(a, worker_a, "admin@example.com", ("admin",))
        _, user = await signed_in(a, worker_a, "user@example.com")
        assert (await b.get("/me", headers=user)).status_code == 200  # cached on b
        await anyio.sleep(1.01)  # `iat` has whole seconds; tokens of the revoking second stay valid
        changed = await a.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=user,
        )
        assert changed.status_code == 200, changed.text
        await refused_within(b, user, 1.5)
        fresh = bearer(changed.json())
        assert (await b.get("/me", headers=fresh)).status_code == 200
        refreshed = await b.post(
            "/auth/refresh", json={"refresh_token": changed.json()["refresh_token"]}
        )
        assert refreshed.status_code == 200

        await anyio.sleep(1.01)
        ban = await a.post(
            "/auth/admin/users/ban", json={"email": "user@example.com"}, headers=admin
        )
        assert ban.status_code == 204
        await refused_within(b, fresh, 1.5)
