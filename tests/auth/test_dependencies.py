"""`CurrentUser`, `OptionalUser` and `require_roles(...)` through the real app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from faster_auth import require_roles

pytestmark = pytest.mark.anyio


def bearer(app: Any, subject: str, roles: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.auth.issuer.issue(subject, roles=roles)}"}


async def test_require_roles_admits_holders_and_refuses_others(
    client: httpx.AsyncClient, auth_app: Any
) -> None:
    assert (await client.get("/admin")).status_code == 401
    refused = await client.get("/admin", headers=bearer(auth_app, "u1", ["user"]))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    admitted = await client.get("/admin", headers=bearer(auth_app, "u2", ["admin", "user"]))
    assert admitted.status_code == 200
    assert admitted.json() == {"sub": "u2"}


async def test_optional_user_is_none_without_credentials_but_401_with_bad_ones(
    client: httpx.AsyncClient, auth_app: Any
) -> None:
    assert (await client.get("/maybe")).json() == {"sub": None}
    signed_in = await client.get("/maybe", headers=bearer(auth_app, "u3", []))
    assert signed_in.json() == {"sub": "u3"}
    bad = await client.get("/maybe", headers={"Authorization": "Bearer x.y.z"})
    assert bad.status_code == 401


async def test_the_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, auth_app: Any
) -> None:
    token = auth_app.state.auth.issuer.issue("u4")
    response = await client.get("/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_require_roles_needs_a_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_roles()
