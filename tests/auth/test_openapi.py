"""Swagger's Authorize: the password flow is documented on the routes that need a user."""

from __future__ import annotations

import httpx
import pytest

from faster_core.testing import client_for
from tests.auth.conftest import AuthAppFactory

pytestmark = pytest.mark.anyio


async def test_protected_routes_carry_the_password_scheme(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    scheme = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    paths = schema["paths"]
    for path in ("/me", "/maybe", "/admin", "/auth/me"):
        assert paths[path]["get"]["security"] == [{"OAuth2PasswordBearer": []}], path
    for path in ("/auth/register", "/auth/login", "/auth/token"):
        assert "security" not in paths[path]["post"], path
    assert "security" not in paths["/.well-known/jwks.json"]["get"]
    assert (await client.get("/openapi.json")).json() == schema


async def test_the_documented_token_url_follows_the_prefix(
    auth_app_factory: AuthAppFactory, private_pem: str
) -> None:
    app = auth_app_factory(private_key=private_pem, routes_prefix="/account")
    async with client_for(app) as client:
        schema = (await client.get("/openapi.json")).json()
        login = await client.post("/account/token", data={"username": "a@b.c", "password": "x"})
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/account/token"
    assert "/account/token" in schema["paths"]
    assert login.status_code == 401
