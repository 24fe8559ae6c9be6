"""Refresh tokens: rotated on every use; a reused one revokes its whole family."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from faster_auth.models import User
from tests.auth.test_accounts import login, register

pytestmark = pytest.mark.anyio


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": token})


@pytest.fixture
async def first_token(client: httpx.AsyncClient) -> str:
    await register(client)
    token: str = (await login(client)).json()["refresh_token"]
    return token


async def test_refresh_rotates_the_token(client: httpx.AsyncClient, first_token: str) -> None:
    response = await refresh(client, first_token)
    assert response.status_code == 200, response.text
    second = response.json()["refresh_token"]
    assert second != first_token
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    assert (await refresh(client, second)).status_code == 200


async def test_reusing_a_rotated_token_revokes_the_family(
    client: httpx.AsyncClient, first_token: str
) -> None:
    second = (await refresh(client, first_token)).json()["refresh_token"]
    reused = await refresh(client, first_token)
    assert reused.status_code == 401
    assert reused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (await refresh(client, second)).status_code == 401  # the thief's copy is dead too


async def test_other_sign_ins_survive_a_revoked_family(
    client: httpx.AsyncClient, first_token: str
) -> None:
    other = (await login(client)).json()["refresh_token"]
    await refresh(client, first_token)
    await refresh(client, first_token)
    assert (await refresh(client, other)).status_code == 200


async def test_a_token_refreshed_concurrently_succeeds_once(
    client: httpx.AsyncClient, first_token: str
) -> None:
    responses = await asyncio.gather(*(refresh(client, first_token) for _ in range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 401}
    # A concurrent second use counts as reuse: the family (and its new token) is revoked.
    for response in responses:
        if response.status_code == 200:
            assert (await refresh(client, response.json()["refresh_token"])).status_code == 401


async def test_logout_revokes_the_refresh_token(
    client: httpx.AsyncClient, first_token: str
) -> None:
    response = await client.post("/auth/logout", json={"refresh_token": first_token})
    assert response.status_code == 204
    assert (await refresh(client, first_token)).status_code == 401


async def test_unknown_and_garbage_tokens_are_401(client: httpx.AsyncClient) -> None:
    assert (await refresh(client, "unknown")).status_code == 401
    assert (await refresh(client, "x" * 257)).status_code == 422


async def test_a_banned_user_cannot_refresh(
    client: httpx.AsyncClient, auth_app: Any, first_token: str
) -> None:
    async with auth_app.state.db.session_scope() as session:
        await session.execute(update(User).values(status="banned"))
    assert (await refresh(client, first_token)).status_code == 401
