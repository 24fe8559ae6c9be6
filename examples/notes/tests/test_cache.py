"""The note list is cached per user in Redis and invalidated by tag on every write (listing.py).

To see the cache, rows are written behind the API's back with the app's own `Database`: a list
that does not show them is served from the cache; one that does was read again.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fastapi import FastAPI

from examples.notes.models import Note
from examples.notes.tests.conftest import SignUp
from faster_db import Database

pytestmark = pytest.mark.anyio


def owner_of(headers: dict[str, str]) -> str:
    """The `sub` claim of the bearer token: what the notes API files notes under."""
    payload = headers["Authorization"].removeprefix("Bearer ").split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    subject: str = claims["sub"]
    return subject


async def insert_behind_the_api(app: FastAPI, owner: str, title: str) -> None:
    database: Database = app.state.db
    async with database.session_scope() as session:
        session.add(Note(owner=owner, title=title, body=""))


async def titles(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/notes", headers=headers)
    assert response.status_code == 200
    return [note["title"] for note in response.json()]


async def test_the_list_is_cached_until_the_owner_writes(
    faster_app: FastAPI, faster_client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    ada = await sign_up("ada")
    owner = owner_of(ada)
    assert await titles(faster_client, ada) == []

    await insert_behind_the_api(faster_app, owner, "sneaked in")
    assert await titles(faster_client, ada) == []  # served from the cache

    await faster_client.post("/notes", json={"title": "written"}, headers=ada)
    assert await titles(faster_client, ada) == ["written", "sneaked in"]


async def test_changes_and_deletions_invalidate_the_list_at_once(
    faster_client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    ada = await sign_up("ada")
    note = (await faster_client.post("/notes", json={"title": "draft"}, headers=ada)).json()
    assert await titles(faster_client, ada) == ["draft"]

    await faster_client.patch(f"/notes/{note['id']}", json={"title": "final"}, headers=ada)
    assert await titles(faster_client, ada) == ["final"]

    await faster_client.delete(f"/notes/{note['id']}", headers=ada)
    assert await titles(faster_client, ada) == []


async def test_a_write_invalidates_only_the_writers_list(
    faster_app: FastAPI, faster_client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    ada, bob = await sign_up("ada"), await sign_up("bob")
    bob_id = owner_of(bob)
    assert await titles(faster_client, bob) == []  # cached for bob
    await insert_behind_the_api(faster_app, bob_id, "bob's sneaked note")

    await faster_client.post("/notes", json={"title": "ada's"}, headers=ada)

    assert await titles(faster_client, ada) == ["ada's"]
    assert await titles(faster_client, bob) == []  # still bob's cached list
    await faster_client.post("/notes", json={"title": "bob's"}, headers=bob)
    assert await titles(faster_client, bob) == ["bob's", "bob's sneaked note"]
