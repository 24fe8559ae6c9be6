"""Every write is recorded by a background job in a session of its own (jobs.py)."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.notes.jobs import record_event
from examples.notes.models import NoteEvent
from examples.notes.tests.conftest import SignUp

pytestmark = pytest.mark.anyio


async def test_create_change_and_delete_are_recorded_after_the_response(
    faster_client: httpx.AsyncClient, sign_up: SignUp, faster_auth_token: Callable[..., str]
) -> None:
    ada = await sign_up("ada")
    admin = {"Authorization": f"Bearer {faster_auth_token('ops-1', roles=['admin'])}"}
    note = (await faster_client.post("/notes", json={"title": "t"}, headers=ada)).json()
    await faster_client.patch(f"/notes/{note['id']}", json={"body": "b"}, headers=ada)
    await faster_client.delete(f"/notes/{note['id']}", headers=ada)

    actions: list[str] = []
    with anyio.fail_after(10):
        while len(actions) < 3:
            events = (await faster_client.get("/admin/notes/activity", headers=admin)).json()
            actions = [e["action"] for e in events if e["note_id"] == note["id"]]
            await anyio.sleep(0.05)

    assert actions == ["deleted", "changed", "created"]


async def test_a_failed_write_records_nothing(
    faster_client: httpx.AsyncClient, sign_up: SignUp, faster_auth_token: Callable[..., str]
) -> None:
    ada = await sign_up("ada")
    admin = {"Authorization": f"Bearer {faster_auth_token('ops-1', roles=['admin'])}"}

    missing = await faster_client.patch("/notes/424242", json={"title": "x"}, headers=ada)

    assert missing.status_code == 404
    events = (await faster_client.get("/admin/notes/activity", headers=admin)).json()
    assert [e for e in events if e["note_id"] == 424242] == []


async def test_the_job_adds_one_history_row_to_the_session_it_is_given(
    faster_db_session: AsyncSession,
) -> None:
    await record_event(faster_db_session, "user-1", 7, "created")
    await faster_db_session.commit()  # a SAVEPOINT: the test's transaction is rolled back

    rows = (await faster_db_session.scalars(select(NoteEvent))).all()

    assert [(r.owner, r.note_id, r.action) for r in rows] == [("user-1", 7, "created")]
    assert rows[0].created_at.tzinfo is not None
