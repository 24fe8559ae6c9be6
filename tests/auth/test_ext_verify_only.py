"""Verify-only mode: the db plugin disabled, external tokens still verified, no user store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from faster_core.testing import client_for
from tests.auth.ext_apps import assert_invalid, bearer, external_app
from tests.auth.ext_issuer import JWKS_PATH, IdentityProvider, running_provider

pytestmark = pytest.mark.anyio


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    with running_provider() as provider:
        yield provider


def verify_only_app(idp: IdentityProvider, **extra: Any) -> FastAPI:
    return external_app(
        None,
        provider="jwks",
        issuer=idp.issuer,
        audience="api",
        jwks_url=idp.issuer + JWKS_PATH,
        roles_claim="realm.roles",
        **extra,
    )


async def test_without_the_db_plugin_external_tokens_are_verified(idp: IdentityProvider) -> None:
    app = verify_only_app(idp)
    async with client_for(app) as client:
        token = idp.mint(realm={"roles": ["admin", "reader"]})
        response = await client.get("/me", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json() == {"sub": "user-1", "roles": ["admin", "reader"]}
        assert (await client.get("/admin", headers=bearer(token))).status_code == 200
        reader = idp.mint("reader", realm={"roles": ["reader"]})
        assert (await client.get("/admin", headers=bearer(reader))).status_code == 403
        assert (await client.get("/maybe")).json() == {"sub": None}
        assert_invalid(await client.get("/me", headers=bearer(idp.mint(aud="other"))))
        assert_invalid(await client.get("/me"))


async def test_verify_only_has_no_user_store_and_no_account_routes(idp: IdentityProvider) -> None:
    app = verify_only_app(idp)
    async with client_for(app) as client:
        auth = app.state.auth
        assert auth.external.mirror is None
        assert not hasattr(app.state, "db")
        for path in ("/auth/register", "/auth/login", "/auth/callback/SIGNED_IN"):
            assert (await client.post(path, json={})).status_code == 404
        assert (await client.get("/auth/admin/users")).status_code == 404


async def test_verify_only_with_the_issuer_down_is_a_503(idp: IdentityProvider) -> None:
    idp.mode = "fail"
    async with client_for(verify_only_app(idp)) as client:
        response = await client.get("/me", headers=bearer(idp.mint()))
        assert response.status_code == 503
        assert "retry-after" in response.headers
