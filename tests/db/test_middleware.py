"""The request's unit of work: commit before success, rollback on errors, closed before
background tasks (faster_db/middleware.py, faster_db/dependencies.py)."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import select, text
from starlette.types import ASGIApp, Message, Scope

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


async def test_a_session_first_used_by_a_background_task_is_refused(sqlite_url: str) -> None:
    """The lazy session is retired with its request even when it was never built."""
    app, journal = make_app(sqlite_url)
    async with client_for(app) as client:
        response = await client.get("/unused-then-background")
        assert response.status_code == 200
        assert journal.background == [{"request_session_error": "SessionMisuseError"}]
        assert app.state.db.primary.pool.checkedin() == 0


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


async def call(app: ASGIApp, method: str, path: str) -> int:
    """One request straight through the ASGI app (no HTTP client objects around it)."""
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return statuses[0]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/unused"), ("GET", "/accounts/1"), ("POST", "/accounts/g{i}/duplicate")],
)
async def test_requests_leave_no_reference_cycles_behind(
    sqlite_url: str, method: str, path: str
) -> None:
    """Cyclic garbage waits for a full collection: multi-millisecond pauses under load.
    (Statements such as the upsert's `INSERT ... ON CONFLICT` build cyclic SQLAlchemy
    constructs of their own: these routes keep to the session's lifecycle.)"""
    app, _ = make_app(sqlite_url)
    async with client_for(app):
        await schema_on(app)
        assert await call(app, "POST", "/signin/first") == 200
        gc.collect()
        gc.disable()
        try:
            for i in range(20):
                assert await call(app, method, path.format(i=i)) == 200
            assert gc.collect() == 0
        finally:
            gc.enable()
