"""The request's unit of work: commit before success, rollback on errors, closed before
background tasks (faster_db/middleware.py, faster_db/dependencies.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from faster_core.testing import client_for
from faster_db import Database, SessionMisuseError
from tests.db.app_kit import Account, SignIn, make_app, schema_on

pytestmark = pytest.mark.anyio


async def accounts(database: Database) -> list[str]:
    async with database.session_scope() as session:
        return list(await session.scalars(select(Account.key).order_by(Account.key)))


async def test_a_successful_request_commits_its_writes(db_url: str) -> None:
    app, _ = make_app(db_url)
    async with client_for(app) as client:
        await schema_on(app)
        response = await client.post("/signin/alice")
        assert response.status_code == 200
        assert await accounts(app.state.db) == ["alice"]


async def test_an_error_status_rolls_back_the_writes(db_url: str) -> None:
    app, _ = make_app(db_url)
    async with client_for(app) as client:
        await schema_on(app)
        response = await client.post("/accounts/bob/fail")
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert await accounts(app.state.db) == []


async def test_an_exception_rolls_back_the_writes_and_answers_500(sqlite_url: str) -> None:
    app, _ = make_app(sqlite_url)
    async with client_for(app) as client:
        await schema_on(app)
        response = await client.post("/accounts/carol/crash")
        assert response.status_code == 500
        assert await accounts(app.state.db) == []
        assert app.state.db.pool_status()["checked_out"] == 0


async def test_a_conflict_found_at_commit_becomes_a_409_problem(db_url: str) -> None:
    app, _ = make_app(db_url)
    async with client_for(app) as client:
        await schema_on(app)
        assert (await client.post("/signin/dave")).status_code == 200
        response = await client.post("/accounts/dave/duplicate")
        assert response.status_code == 409
        body = response.json()
        assert body["type"] == "urn:faster:problem:db-conflict"
        assert "INSERT" not in response.text
        assert "test_accounts" not in response.text
        assert app.state.db.pool_status()["checked_out"] == 0


async def test_a_declared_but_unused_session_never_connects(sqlite_url: str) -> None:
    app, journal = make_app(sqlite_url)
    async with client_for(app) as client:
        for _ in range(3):
            assert (await client.get("/unused")).status_code == 200
        pool = app.state.db.primary.pool
        assert pool.checkedout() == 0
        assert pool.checkedin() == 0  # no connection was ever opened
        with pytest.raises(SessionMisuseError, match="request that opened this session has ended"):
            await journal.sessions[0].execute(text("SELECT 1"))


async def test_background_task_runs_after_the_response_with_its_own_session(db_url: str) -> None:
    app, journal = make_app(db_url)
    async with client_for(app) as client:
        await schema_on(app)
        response = await client.post("/background/erin")
        assert response.status_code == 200
        assert journal.background == [
            {"own_session": True, "request_session_error": "SessionMisuseError"}
        ]
        async with app.state.db.session_scope() as session:
            notes = list(await session.scalars(select(SignIn.note)))
        assert notes == ["from background"]
        assert app.state.db.pool_status()["checked_out"] == 0


async def test_a_background_task_given_a_bound_orm_object_is_refused(sqlite_url: str) -> None:
    app, _ = make_app(sqlite_url)
    async with client_for(app) as client:
        await schema_on(app)
        response = await client.post("/background-bound/frank")
        assert response.status_code == 500  # a programming error, refused when scheduling
        assert await accounts(app.state.db) == []
        async with app.state.db.session_scope() as session:
            assert list(await session.scalars(select(SignIn))) == []


async def test_routes_without_a_session_pass_through_untouched(sqlite_url: str) -> None:
    app, _ = make_app(sqlite_url)
    async with client_for(app) as client:
        response = await client.get("/health/live")
        assert response.status_code == 200
        assert app.state.db.primary.pool.checkedin() == 0
