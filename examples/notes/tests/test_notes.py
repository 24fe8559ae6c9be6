"""Notes CRUD over real HTTP through the ASGI stack (routes.py)."""

from __future__ import annotations

import httpx
import pytest

from examples.notes.tests.conftest import SignUp

pytestmark = pytest.mark.anyio


async def test_a_user_creates_reads_changes_and_deletes_a_note(
    faster_client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    ada = await sign_up("ada")

    created = await faster_client.post(
        "/notes", json={"title": "Groceries", "body": "eggs"}, headers=ada
    )
    assert created.status_code == 201
    note = created.json()
    assert (note["title"], note["body"]) == ("Groceries", "eggs")

    read = await faster_client.get(f"/notes/{note['id']}", headers=ada)
    assert read.json() == note

    changed = await faster_client.patch(
        f"/notes/{note['id']}", json={"body": "eggs, milk"}, headers=ada
    )
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["body"]) == ("Groceries", "eggs, milk")
    assert changed.json()["updated_at"] >= note["updated_at"]

    deleted = await faster_client.delete(f"/notes/{note['id']}", headers=ada)
    assert deleted.status_code == 204
    gone = await faster_client.get(f"/notes/{note['id']}", headers=ada)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert (await faster_client.get("/notes", headers=ada)).json() == []


async def test_the_list_is_the_callers_newest_first(
    faster_client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    ada = await sign_up("ada")
    for title in ("first", "second", "third"):
        assert (await faster_client.post("/notes", json={"title": title}, headers=ada)).is_success

    listed = await faster_client.get("/notes", headers=ada)

    assert [n["title"] for n in listed.json()] == ["third", "second", "first"]


async def test_another_users_note_answers_like_a_missing_one(
    faster_client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    ada, bob = await sign_up("ada"), await sign_up("bob")
    note = (await faster_client.post("/notes", json={"title": "secret"}, headers=ada)).json()
    missing = await faster_client.get("/notes/999999", headers=bob)

    read = await faster_client.get(f"/notes/{note['id']}", headers=bob)
    changed = await faster_client.patch(f"/notes/{note['id']}", json={"title": "x"}, headers=bob)
    deleted = await faster_client.delete(f"/notes/{note['id']}", headers=bob)

    assert [r.status_code for r in (read, changed, deleted)] == [404, 404, 404]
    assert read.json()["detail"] == f"There is no note {note['id']}."
    assert missing.json()["detail"] == "There is no note 999999."
    assert (await faster_client.get("/notes", headers=bob)).json() == []
    assert (await faster_client.get(f"/notes/{note['id']}", headers=ada)).json()[
        "title"
    ] == "secret"


async def test_notes_need_a_valid_token(faster_client: httpx.AsyncClient) -> None:
    anonymous = await faster_client.get("/notes")
    forged = await faster_client.post(
        "/notes", json={"title": "x"}, headers={"Authorization": "Bearer not.a.token"}
    )

    for response in (anonymous, forged):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_invalid_note_is_a_validation_problem_naming_the_field(
    faster_client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    ada = await sign_up("ada")

    response = await faster_client.post("/notes", json={"title": ""}, headers=ada)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["body.title"]
