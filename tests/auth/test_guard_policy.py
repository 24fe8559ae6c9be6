"""The route-tag policy and deny-by-default, through the real app's start-up and routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from faster_auth import CurrentUser
from faster_auth.policy import public
from faster_core import PluginStartupError
from faster_core.testing import client_for
from tests.auth.test_guard_revocation import guard_app

pytestmark = pytest.mark.anyio


def tagged_router() -> APIRouter:
    router = APIRouter()

    @router.get("/billing", tags=["billing"])
    async def billing() -> dict[str, str]:
        return {"area": "billing"}

    @router.get("/billing-admin", tags=["billing", "admin"])
    async def billing_admin() -> dict[str, str]:
        return {"area": "billing admin"}

    @router.get("/open")
    @public
    async def open_route() -> dict[str, str]:
        return {"area": "open"}

    return router


def bearer(app: FastAPI, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.auth.issuer.issue('u1', roles=roles)}"}


async def test_a_tag_admits_holders_of_one_of_its_roles(tmp_path: Path, private_pem: str) -> None:
    policy = {"billing": ["finance", "accountant"], "admin": ["admin"]}
    app = guard_app(tmp_path / "app.db", private_pem, tag_roles=policy)
    app.include_router(tagged_router())
    async with client_for(app) as client:
        assert (await client.get("/billing")).status_code == 401
        assert (await client.get("/billing", headers=bearer(app, "user"))).status_code == 403
        assert (await client.get("/billing", headers=bearer(app, "finance"))).status_code == 200
        assert (await client.get("/open")).status_code == 200


async def test_several_policy_tags_add_up_and_are_never_a_union(
    tmp_path: Path, private_pem: str
) -> None:
    policy = {"billing": ["finance"], "admin": ["admin"]}
    app = guard_app(tmp_path / "app.db", private_pem, tag_roles=policy)
    app.include_router(tagged_router())
    async with client_for(app) as client:
        # The predecessor admitted any role of any tag: a `finance` user reached admin routes.
        finance = await client.get("/billing-admin", headers=bearer(app, "finance"))
        assert finance.status_code == 403
        assert finance.headers["content-type"] == "application/problem+json"
        admin = await client.get("/billing-admin", headers=bearer(app, "admin"))
        assert admin.status_code == 403
        both = await client.get("/billing-admin", headers=bearer(app, "admin", "finance"))
        assert both.status_code == 200


async def test_a_tag_policy_never_opens_the_admin_api(tmp_path: Path, private_pem: str) -> None:
    app = guard_app(tmp_path / "app.db", private_pem, tag_roles={"auth admin": ["support"]})
    async with client_for(app) as client:
        response = await client.get(
            "/auth/admin/users/00000000-0000-0000-0000-000000000000",
            headers=bearer(app, "support"),
        )
        assert response.status_code == 403  # the handler's own `admin` check still holds


async def test_a_tag_without_roles_is_refused(tmp_path: Path, private_pem: str) -> None:
    app = guard_app(tmp_path / "app.db", private_pem, tag_roles={"billing": []})
    with pytest.raises(PluginStartupError, match="FASTER_AUTH_TAG_ROLES"):
        async with client_for(app):
            pass


def unguarded_app(tmp_path: Path, private_pem: str, **auth: Any) -> FastAPI:
    app = guard_app(tmp_path / "app.db", private_pem, deny_by_default=True, **auth)

    @app.get("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {"oops": "anyone"}

    @app.post("/also-forgotten")
    async def also_forgotten() -> dict[str, str]:
        return {"oops": "anyone"}

    @app.get("/mine")
    async def mine(user: CurrentUser) -> dict[str, str]:
        return {"sub": user.subject}

    @app.get("/status")
    @public
    async def status() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def test_deny_by_default_refuses_to_start_listing_every_unguarded_route(
    tmp_path: Path, private_pem: str
) -> None:
    app = unguarded_app(tmp_path, private_pem)
    with pytest.raises(PluginStartupError) as refused:
        async with client_for(app):
            pass
    message = str(refused.value)
    assert "'auth'" in message
    assert "GET /forgotten" in message
    assert "POST /also-forgotten" in message
    assert "GET /maybe" in message  # an optional user is not a protection
    for fine in ("/mine", "/status", "/me", "/admin", "/auth/login", "/docs"):
        assert f" {fine};" not in message + ";"


async def test_public_paths_and_protection_satisfy_deny_by_default(
    tmp_path: Path, private_pem: str
) -> None:
    app = unguarded_app(tmp_path, private_pem, public_paths=["/forgotten", "/also-*", "/maybe"])
    async with client_for(app) as client:
        assert (await client.get("/forgotten")).status_code == 200
        assert (await client.get("/mine")).status_code == 401
