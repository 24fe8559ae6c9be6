"""The activity route is for admins only (routes.py, faster-auth's `require_roles`)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from examples.notes.tests.conftest import SignUp

pytestmark = pytest.mark.anyio


async def test_only_admins_see_everyones_activity(
    faster_client: httpx.AsyncClient, sign_up: SignUp, faster_auth_token: Callable[..., str]
) -> None:
    ada = await sign_up("ada")
    await faster_client.post("/notes", json={"title": "t"}, headers=ada)
    admin = {"Authorization": f"Bearer {faster_auth_token('ops-1', roles=['admin'])}"}
    editor = {"Authorization": f"Bearer {faster_auth_token('ops-2', roles=['editor'])}"}

    as_user = await faster_client.get("/admin/notes/activity", headers=ada)
    as_editor = await faster_client.get("/admin/notes/activity", headers=editor)
    anonymous = await faster_client.get("/admin/notes/activity")
    as_admin = await faster_client.get("/admin/notes/activity?limit=1", headers=admin)

    assert [as_user.status_code, as_editor.status_code, anonymous.status_code] == [403, 403, 401]
    assert as_user.headers["content-type"] == "application/problem+json"
    assert as_admin.status_code == 200
    assert [e["action"] for e in as_admin.json()] == ["created"]


async def test_the_activity_limit_is_bounded(
    faster_client: httpx.AsyncClient, faster_auth_token: Callable[..., str]
) -> None:
    admin = {"Authorization": f"Bearer {faster_auth_token('ops-1', roles=['admin'])}"}

    response = await faster_client.get("/admin/notes/activity?limit=100000", headers=admin)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.limit"]
