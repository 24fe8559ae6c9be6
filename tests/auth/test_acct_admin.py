"""The admin API additions: user list, ban by email, a user's audit trail, and the full
authorization matrix (admin_routes.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from faster_core.testing import client_for
from tests.auth.acct_kit import accounts_app, login, settle, signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(tmp_path: Path, private_pem: str) -> FastAPI:
    return accounts_app(tmp_path, private_pem)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


def admin_calls(user_id: str, email: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every admin route, aimed at another user."""
    return [
        ("GET", "/auth/admin/users", None),
        ("GET", f"/auth/admin/users/{user_id}", None),
        ("GET", f"/auth/admin/users/{user_id}/audit", None),
        ("PUT", f"/auth/admin/users/{user_id}/roles", {"roles": ["editor"]}),
        ("POST", f"/auth/admin/users/{user_id}/ban", None),
        ("POST", f"/auth/admin/users/{user_id}/unban", None),
        ("POST", "/auth/admin/users/ban", {"email": email}),
        ("POST", "/auth/admin/users/unban", {"email": email}),
    ]


def test_the_matrix_covers_every_admin_route(app: FastAPI) -> None:
    documented = {
        (method.upper(), path.replace("{user_id}", "X"))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/auth/admin")
        for method in operations
    }
    called = {(m, u) for m, u, _ in admin_calls("X", "x@example.com")}
    assert documented == called


async def test_the_authorization_matrix(client: httpx.AsyncClient, app: FastAPI) -> None:
    _, admin = await signed_in(client, app, "admin@example.com", ("admin",))
    _, user = await signed_in(client, app, "user@example.com")
    target, _ = await signed_in(client, app, "target@example.com")
    expected = {"anonymous": {401}, "user": {403}, "admin": {200, 204}}
    for method, url, body in admin_calls(target, "target@example.com"):
        for who, headers in (("anonymous", {}), ("user", user), ("admin", admin)):
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code in expected[who], (who, method, url, response.text)
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_or_foreign_ids_are_404_or_403(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin_id, admin = await signed_in(client, app, "admin@example.com", ("admin",))
    user_id, user = await signed_in(client, app, "user@example.com")
    missing = str(uuid.uuid4())
    for method, url, body in admin_calls(missing, "missing@example.com")[1:]:
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code == 404, (method, url, response.text)
    # A plain user aiming at another user's id, or at their own, gets 403 everywhere.
    for target in (admin_id, user_id):
        for method, url, body in admin_calls(target, "admin@example.com"):
            assert (await client.request(method, url, json=body, headers=user)).status_code == 403
    # Nobody grants themselves a role or bans themselves, admins included, by id or email.
    own = await client.put(
        f"/auth/admin/users/{user_id}/roles", json={"roles": ["admin"]}, headers=user
    )
    assert own.status_code == 403
    for method, url, body in (
        ("PUT", f"/auth/admin/users/{admin_id}/roles", {"roles": ["admin", "owner"]}),
        ("POST", f"/auth/admin/users/{admin_id}/ban", None),
        ("POST", "/auth/admin/users/ban", {"email": "ADMIN@example.com"}),
    ):
        assert (await client.request(method, url, json=body, headers=admin)).status_code == 403
    assert (await client.get("/auth/me", headers=user)).json()["roles"] == []
    assert (await client.get("/auth/me", headers=admin)).json()["roles"] == ["admin"]


async def test_listing_filters_and_paginates(client: httpx.AsyncClient, app: FastAPI) -> None:
    _, admin = await signed_in(client, app, "admin@example.com", ("admin",))
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing", "100%_real"):
        email = name.split()[0].lower().replace("%", "pct") + "@example.com"
        body = {"email": email, "password": "correct horse battery", "display_name": name}
        assert (await client.post("/auth/register", json=body)).status_code == 201
    editors = await client.get("/auth/admin/users", params={"q": "GRACE"}, headers=admin)
    assert [u["display_name"] for u in editors.json()["items"]] == ["Grace Hopper"]
    by_email = await client.get("/auth/admin/users", params={"q": "alan@"}, headers=admin)
    assert by_email.json()["total"] == 1
    literal = await client.get("/auth/admin/users", params={"q": "0%_"}, headers=admin)
    assert [u["display_name"] for u in literal.json()["items"]] == ["100%_real"]

    page = await client.get("/auth/admin/users", params={"limit": 2, "offset": 1}, headers=admin)
    assert page.status_code == 200
    body = page.json()
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (5, 2, 1, 2)
    everyone = (await client.get("/auth/admin/users", headers=admin)).json()["items"]
    assert [u["id"] for u in body["items"]] == [u["id"] for u in everyone[1:3]]
    assert set(everyone[0]) >= {"id", "email", "display_name", "status", "roles"}

    admins = await client.get("/auth/admin/users", params={"role": "admin"}, headers=admin)
    assert [u["email"] for u in admins.json()["items"]] == ["admin@example.com"]
    await client.post("/auth/admin/users/ban", json={"email": "grace@example.com"}, headers=admin)
    banned = await client.get("/auth/admin/users", params={"status": "banned"}, headers=admin)
    assert [u["email"] for u in banned.json()["items"]] == ["grace@example.com"]
    too_many = await client.get("/auth/admin/users", params={"limit": 101}, headers=admin)
    assert too_many.status_code == 422
    negative = await client.get("/auth/admin/users", params={"offset": -1}, headers=admin)
    assert negative.status_code == 422


async def test_ban_by_email_takes_effect_and_unban_restores(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    _, admin = await signed_in(client, app, "admin@example.com", ("admin",))
    await signed_in(client, app, "user@example.com")
    ban = await client.post(
        "/auth/admin/users/ban", json={"email": " User@Example.com"}, headers=admin
    )
    assert ban.status_code == 204
    assert (await login(client, "user@example.com")).status_code == 401
    unban = await client.post(
        "/auth/admin/users/unban", json={"email": "user@example.com"}, headers=admin
    )
    assert unban.status_code == 204
    assert (await login(client, "user@example.com")).status_code == 200


async def test_a_users_audit_trail_is_newest_first(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin_id, admin = await signed_in(client, app, "admin@example.com", ("admin",))
    user_id, _ = await signed_in(client, app, "user@example.com")
    await login(client, "user@example.com", "wrong password!")
    await client.put(f"/auth/admin/users/{user_id}/roles", json={"roles": ["x"]}, headers=admin)
    await settle(app)
    response = await client.get(f"/auth/admin/users/{user_id}/audit", headers=admin)
    # The verification link of the registration is issued in the background: order unknown.
    items = [e for e in response.json()["items"] if e["type"] != "email_verification_request"]
    assert [(e["type"], e["outcome"]) for e in items] == [
        ("roles_change", "success"),
        ("login", "failure"),
        ("login", "success"),
        ("register", "success"),
    ]
    assert items[0]["actor_id"] == admin_id
    assert items[0]["detail"] == {"previous": [], "roles": ["x"]}
    assert set(items[0]) == {
        "id",
        "occurred_at",
        "type",
        "outcome",
        "user_id",
        "actor_id",
        "request_id",
        "ip",
        "user_agent",
        "detail",
    }
    limited = await client.get(
        f"/auth/admin/users/{user_id}/audit", params={"limit": 1}, headers=admin
    )
    assert len(limited.json()["items"]) == 1
    assert (
        await client.get(f"/auth/admin/users/{user_id}/audit?limit=101", headers=admin)
    ).status_code == 422
