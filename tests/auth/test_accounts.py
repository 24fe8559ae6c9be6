"""Local accounts through the real ASGI app on a SQLite file, migrated by the auth branch."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from faster_auth.models import RefreshToken, User, UserRole
from faster_auth.refresh_tokens import hash_token

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


async def register(client: httpx.AsyncClient, email: str = "ada@example.com") -> httpx.Response:
    return await client.post("/auth/register", json={"email": email, "password": PASSWORD})


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": password})


async def test_register_then_login_gives_tokens_the_app_accepts(
    client: httpx.AsyncClient,
) -> None:
    created = await register(client, "Ada@Example.com ")
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "ada@example.com"
    assert "password" not in created.text

    response = await login(client)
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 900
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    me = await client.get("/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["id"] == created.json()["id"]
    assert (await client.get("/me", headers=headers)).json()["sub"] == created.json()["id"]


async def test_the_oauth2_password_form_logs_in(client: httpx.AsyncClient) -> None:
    await register(client)
    form = {"grant_type": "password", "username": "ada@example.com", "password": PASSWORD}
    response = await client.post("/auth/token", data=form)
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]
    bad = await client.post("/auth/token", data={**form, "username": "not an email"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"


async def test_failed_sign_ins_are_indistinguishable(
    client: httpx.AsyncClient, auth_app: Any
) -> None:
    await register(client)
    await register(client, "banned@example.com")
    async with auth_app.state.db.session_scope() as session:
        await session.execute(
            update(User).where(User.email == "banned@example.com").values(status="banned")
        )
    headers = {"X-Request-ID": "same-id"}
    attempts = [
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": "ada@example.com", "password": "wrong password!"},
        {"email": "banned@example.com", "password": PASSWORD},
    ]
    responses = [await client.post("/auth/login", json=a, headers=headers) for a in attempts]
    assert {r.status_code for r in responses} == {401}
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["detail"] == "The email or password is incorrect."


async def test_a_taken_email_is_a_409_problem(client: httpx.AsyncClient) -> None:
    assert (await register(client)).status_code == 201
    again = await register(client, "ADA@example.com")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_concurrent_registrations_of_one_email_create_one_user(
    client: httpx.AsyncClient, auth_app: Any
) -> None:
    responses = await asyncio.gather(*(register(client) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    async with auth_app.state.db.session_scope(readonly=True) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_a_short_password_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", json={"email": "ada@example.com", "password": "short"}
    )
    assert response.status_code == 422
    assert "at least 10 characters" in response.json()["detail"]


async def test_passwords_and_refresh_tokens_are_stored_hashed(
    client: httpx.AsyncClient, auth_app: Any
) -> None:
    await register(client)
    refresh_token = (await login(client)).json()["refresh_token"]
    async with auth_app.state.db.session_scope(readonly=True) as session:
        stored = await session.scalar(select(User.password_hash))
        hashes = list(await session.scalars(select(RefreshToken.token_hash)))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert hashes == [hash_token(refresh_token)]


async def test_roles_come_from_the_roles_table(client: httpx.AsyncClient, auth_app: Any) -> None:
    user_id = (await register(client)).json()["id"]
    async with auth_app.state.db.session_scope() as session:
        session.add(UserRole(user_id=uuid.UUID(user_id), role="admin"))
    pair = (await login(client)).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await client.get("/admin", headers=headers)).status_code == 200
    assert (await client.get("/auth/me", headers=headers)).json()["roles"] == ["admin"]
