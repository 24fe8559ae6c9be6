"""The admin API: the authorization matrix, no self-granted roles, bans on the next request."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from faster_auth.models import UserRole
from faster_core.testing import client_for
from tests.auth.conftest import AuthAppFactory
from tests.auth.test_accounts import PASSWORD, login, register

pytestmark = pytest.mark.anyio


async def signed_in(
    client: httpx.AsyncClient, app: FastAPI, email: str, roles: tuple[str, ...] = ()
) -> tuple[str, dict[str, str]]:
    """Register `email` (with `roles`, written straight to the store) and sign in."""
    user_id = (await register(client, email)).json()["id"]
    if roles:
        async with app.state.db.session_scope() as session:
            session.add_all(UserRole(user_id=uuid.UUID(user_id), role=r) for r in roles)
    token = (await login(client, email)).json()["access_token"]
    return user_id, {"Authorization": f"Bearer {token}"}


def admin_calls(user_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"/auth/admin/users/{user_id}", None),
        ("PUT", f"/auth/admin/users/{user_id}/roles", {"roles": ["editor"]}),
        ("POST", f"/auth/admin/users/{user_id}/ban", None),
        ("POST", f"/auth/admin/users/{user_id}/unban", None),
    ]


async def test_the_authorization_matrix(client: httpx.AsyncClient, auth_app: FastAPI) -> None:
    _, admin = await signed_in(client, auth_app, "admin@example.com", ("admin",))
    _, user = await signed_in(client, auth_app, "user@example.com")
    target, _ = await signed_in(client, auth_app, "target@example.com")
    expected = {"anonymous": {401}, "user": {403}, "admin": {200, 204}}
    for method, url, body in admin_calls(target):
        for who, headers in (("anonymous", {}), ("user", user), ("admin", admin)):
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code in expected[who], (who, method, url, response.text)
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
    missing = await client.get(f"/auth/admin/users/{uuid.uuid4()}", headers=admin)
    assert missing.status_code == 404


async def test_nobody_grants_themselves_a_role(
    client: httpx.AsyncClient, auth_app: FastAPI
) -> None:
    user_id, user = await signed_in(client, auth_app, "user@example.com")
    admin_id, admin = await signed_in(client, auth_app, "admin@example.com", ("admin",))
    escalation = {"roles": ["admin"]}
    own = await client.put(f"/auth/admin/users/{user_id}/roles", json=escalation, headers=user)
    assert own.status_code == 403
    admin_own = {"roles": ["admin", "owner"]}
    response = await client.put(
        f"/auth/admin/users/{admin_id}/roles", json=admin_own, headers=admin
    )
    assert response.status_code == 403
    assert (
        await client.post(f"/auth/admin/users/{admin_id}/ban", headers=admin)
    ).status_code == 403
    me = await client.get("/auth/me", headers={**user})
    assert me.json()["roles"] == []
    assert (await client.get("/auth/me", headers=admin)).json()["roles"] == ["admin"]


async def test_roles_set_by_an_admin_reach_the_next_token(
    client: httpx.AsyncClient, auth_app: FastAPI
) -> None:
    user_id, _ = await signed_in(client, auth_app, "user@example.com")
    _, admin = await signed_in(client, auth_app, "admin@example.com", ("admin",))
    response = await client.put(
        f"/auth/admin/users/{user_id}/roles", json={"roles": ["admin", "editor"]}, headers=admin
    )
    assert response.json()["roles"] == ["admin", "editor"]
    token = (await login(client, "user@example.com")).json()["access_token"]
    assert (
        await client.get("/admin", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    bad = await client.put(
        f"/auth/admin/users/{user_id}/roles", json={"roles": ["no spaces"]}, headers=admin
    )
    assert bad.status_code == 422


async def test_a_ban_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, auth_app: FastAPI
) -> None:
    user_id, user = await signed_in(client, auth_app, "user@example.com")
    refresh_token = (await login(client, "user@example.com")).json()["refresh_token"]
    _, admin = await signed_in(client, auth_app, "admin@example.com", ("admin",))
    assert (await client.get("/me", headers=user)).status_code == 200
    await anyio.sleep(1.01)  # `iat` has whole seconds; tokens of the revoking second stay valid
    assert (await client.post(f"/auth/admin/users/{user_id}/ban", headers=admin)).status_code == 204
    assert (await client.get("/me", headers=user)).status_code == 401
    refused = await client.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert refused.status_code == 401
    assert (await login(client, "user@example.com")).status_code == 401

    await client.post(f"/auth/admin/users/{user_id}/unban", headers=admin)
    assert (await login(client, "user@example.com", PASSWORD)).status_code == 200
    assert (await client.get("/me", headers=user)).status_code == 401  # issued before the ban


async def test_a_ban_reaches_another_worker_within_a_second(
    auth_app_factory: AuthAppFactory, private_pem: str
) -> None:
    """Two apps on one database, each with its own cache, as two workers have."""
    worker_a = auth_app_factory(private_key=private_pem)
    worker_b = auth_app_factory(private_key=private_pem)
    async with client_for(worker_a) as a, client_for(worker_b) as b:
        user_id, user = await signed_in(a, worker_a, "user@example.com")
        _, admin = await signed_in(a, worker_a, "admin@example.com", ("admin",))
        assert (await b.get("/me", headers=user)).status_code == 200  # cached on b
        assert (await a.post(f"/auth/admin/users/{user_id}/ban", headers=admin)).status_code == 204
        banned_at = time.monotonic()
        while (await b.get("/me", headers=user)).status_code == 200:
            assert time.monotonic() - banned_at < 1.5
        assert time.monotonic() - banned_at <= 1.5


async def test_sign_out_everywhere_revokes_every_token(
    client: httpx.AsyncClient, auth_app: FastAPI
) -> None:
    _, first = await signed_in(client, auth_app, "user@example.com")
    refresh_token = (await login(client, "user@example.com")).json()["refresh_token"]
    await anyio.sleep(1.01)  # `iat` has whole seconds; tokens of the revoking second stay valid
    response = await client.post("/auth/logout-all", headers=first)
    assert response.status_code == 204
    assert (await client.get("/me", headers=first)).status_code == 401
    refused = await client.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert refused.status_code == 401
    again = (await login(client, "user@example.com")).json()["access_token"]
    assert (
        await client.get("/me", headers={"Authorization": f"Bearer {again}"})
    ).status_code == 200
