"""Creating notes is rate limited per user, in Redis (routes.py, `FASTER_NOTES_WRITE_LIMIT`)."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import func, select

from examples.notes.models import Note
from examples.notes.routes import WRITE_LIMIT_NAME
from examples.notes.tests.conftest import NotesAppFactory, bearer
from faster_core.testing import client_for
from faster_db import Database
from faster_redis.testing import rate_limits

pytestmark = pytest.mark.anyio


async def test_the_limit_applies_per_user_and_only_to_writes(
    notes_app_factory: NotesAppFactory,
) -> None:
    app = notes_app_factory(notes={"write_limit": "3/minute"})
    async with client_for(app) as client:
        ada, bob = bearer(app, "ada"), bearer(app, "bob")
        allowed = [
            await client.post("/notes", json={"title": f"n{i}"}, headers=ada) for i in range(3)
        ]
        refused = await client.post("/notes", json={"title": "one too many"}, headers=ada)
        bobs = await client.post("/notes", json={"title": "bob's first"}, headers=bob)
        listed = await client.get("/notes", headers=ada)

    assert [r.status_code for r in allowed] == [201, 201, 201]
    assert allowed[0].headers["ratelimit-policy"] == f'"{WRITE_LIMIT_NAME}";q=3;w=60'
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) > 0
    assert bobs.status_code == 201
    assert len(listed.json()) == 3


async def test_concurrent_writes_never_exceed_the_limit(notes_app_factory: NotesAppFactory) -> None:
    app = notes_app_factory(notes={"write_limit": "5/minute"})
    statuses: list[int] = []
    async with client_for(app) as client:
        ada = bearer(app, "ada")

        async def write(i: int) -> None:
            response = await client.post("/notes", json={"title": f"n{i}"}, headers=ada)
            statuses.append(response.status_code)

        async with anyio.create_task_group() as tasks:
            for i in range(12):
                tasks.start_soon(write, i)
        database: Database = app.state.db
        async with database.session_scope(readonly=True) as session:
            stored = await session.scalar(select(func.count()).select_from(Note))

    assert sorted(statuses) == [201] * 5 + [429] * 7
    assert stored == 5


async def test_tests_can_lift_the_limit_with_the_redis_testing_kit(
    notes_app_factory: NotesAppFactory,
) -> None:
    app = notes_app_factory(notes={"write_limit": "1/minute"})
    async with client_for(app) as client:
        ada = bearer(app, "ada")
        with rate_limits(app).disabled():
            lifted = [
                await client.post("/notes", json={"title": "n"}, headers=ada) for _ in range(3)
            ]
        back = [await client.post("/notes", json={"title": "n"}, headers=ada) for _ in range(2)]

    assert [r.status_code for r in lifted] == [201, 201, 201]
    assert [r.status_code for r in back] == [201, 429]
