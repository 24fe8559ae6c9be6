"""The `faster_auth` pytest plugin: tokens for the app behind `faster_client`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.auth.conftest import AuthAppFactory

pytestmark = pytest.mark.anyio


@pytest.fixture
def faster_app(auth_app_factory: AuthAppFactory, private_pem: str) -> FastAPI:
    return auth_app_factory(private_key=private_pem)


async def test_the_token_fixture_signs_with_the_apps_key(
    faster_client: httpx.AsyncClient, faster_auth_token: Callable[..., str]
) -> None:
    token = faster_auth_token("user-5", roles=["admin"])
    response = await faster_client.get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"sub": "user-5"}
    user_token = faster_auth_token("user-6")
    refused = await faster_client.get("/admin", headers={"Authorization": f"Bearer {user_token}"})
    assert refused.status_code == 403
