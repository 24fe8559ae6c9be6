"""Engines from settings: SQLite pragmas on every connection, asyncpg options
(faster_db/_engine.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from faster_core.testing import client_for
from faster_db import Database, DBSettings
from tests.db.app_kit import Account, create_schema, make_app

pytestmark = pytest.mark.anyio


async def test_every_sqlite_connection_gets_wal_foreign_keys_and_busy_timeout(
    sqlite_url: str,
) -> None:
    database = Database(DBSettings(_env_file=None, url=sqlite_url, sqlite_busy_timeout=2.5))
    try:

        async def pragmas() -> tuple[object, ...]:
            async with database.primary.connect() as connection:
                values = []
                for name in ("journal_mode", "foreign_keys", "busy_timeout"):
                    values.append(await connection.scalar(text(f"PRAGMA {name}")))
                await asyncio.sleep(0.05)  # hold it, so that the others open their own
                return tuple(values)

        results = await asyncio.gather(*(pragmas() for _ in range(4)))
        assert database.pool_status()["idle"] == 4
        assert set(results) == {("wal", 1, 2500)}
    finally:
        await database.dispose()


async def test_sqlite_keeps_the_connections_a_burst_opened_instead_of_reopening_them(
    sqlite_url: str,
) -> None:
    """Overflow connections returned to a full pool would be closed, and each new SQLite
    connection is a new worker thread and four pragmas: bursts of concurrent units must reuse
    the connections the first burst opened."""
    from sqlalchemy import event

    database = Database(DBSettings(_env_file=None, url=sqlite_url, pool_size=2, max_overflow=3))
    opened = 0

    def count(*_: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(database.primary.sync_engine, "connect", count)
    try:

        async def hold() -> None:
            async with database.primary.connect() as connection:
                await connection.scalar(text("SELECT 1"))
                await asyncio.sleep(0.02)

        for _ in range(5):
            await asyncio.gather(*(hold() for _ in range(5)))
        assert opened == 5
        assert database.pool_status()["idle"] == 5
        assert database.pool_status()["capacity"] == 5
    finally:
        await database.dispose()


async def test_sqlite_enforces_foreign_keys(sqlite_url: str) -> None:
    from faster_db import RecordConflictError
    from tests.db.app_kit import SignIn

    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        await create_schema(database)
        with pytest.raises(RecordConflictError):
            async with database.session_scope() as session:
                session.add(SignIn(account_id=12345))
    finally:
        await database.dispose()


async def test_sqlite_has_no_pre_ping_and_postgresql_has(sqlite_url: str, pg_url: str) -> None:
    for url, expected in ((sqlite_url, False), (pg_url, True)):
        database = Database(DBSettings(_env_file=None, url=url))
        assert database.primary.pool._pre_ping is expected
        await database.dispose()


async def test_postgresql_without_prepared_statements_for_transaction_poolers(
    pg_url: str,
) -> None:
    database = Database(
        DBSettings(_env_file=None, url=pg_url, prepared_statements=False, statement_timeout=5)
    )
    try:
        await create_schema(database)
        for round_ in range(3):  # the same statement again: nothing may be cached by name
            async with database.session_scope() as session:
                session.add(Account(key=f"k{round_}"))
        async with database.session_scope() as session:
            assert await session.scalar(text("SHOW statement_timeout")) == "5s"
            names = list(await session.scalars(text("SELECT name FROM pg_prepared_statements")))
            # Only the statement in flight, under a never-repeating name; nothing kept.
            assert len(names) <= 1
            assert all(name.startswith("__faster_") for name in names)
    finally:
        await database.dispose()


async def test_statement_timeout_stops_a_long_query_with_a_503(pg_url: str) -> None:
    from faster_db import DatabaseUnavailableError

    database = Database(DBSettings(_env_file=None, url=pg_url, statement_timeout=0.2))
    try:
        with pytest.raises(DatabaseUnavailableError):
            async with database.session_scope() as session:
                await session.execute(text("SELECT pg_sleep(5)"))
    finally:
        await database.dispose()


async def read_then_write(session: AsyncSession, key: str) -> None:
    await session.scalar(select(func.count()).select_from(Account))
    await asyncio.sleep(0.2)  # both units have read before either writes
    session.add(Account(key=key))
    await session.commit()


async def test_sqlite_read_write_units_that_read_first_wait_for_the_lock(sqlite_url: str) -> None:
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        await create_schema(database)

        async def unit(key: str) -> None:
            async with database.session_scope() as session:
                await read_then_write(session, key)

        await asyncio.gather(unit("a"), unit("b"))
        async with database.session_scope() as session:
            assert await session.scalar(select(func.count()).select_from(Account)) == 2
    finally:
        await database.dispose()


async def test_sqlite_deferred_transactions_would_fail_the_same_way(sqlite_url: str) -> None:
    """What BEGIN IMMEDIATE prevents: the same two units on plain (deferred) sessions."""
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        await create_schema(database)

        async def unit(key: str) -> None:
            async with AsyncSession(database.primary) as session:
                await read_then_write(session, key)

        results = await asyncio.gather(unit("a"), unit("b"), return_exceptions=True)
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1
        assert "database is locked" in str(errors[0])
    finally:
        await database.dispose()


async def test_sqlite_read_only_units_do_not_wait_for_a_writer(sqlite_url: str) -> None:
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        await create_schema(database)
        writing = asyncio.Event()

        async def slow_writer() -> None:
            async with database.session_scope() as session:
                session.add(Account(key="w"))
                await session.flush()
                writing.set()
                await asyncio.sleep(1.0)

        writer = asyncio.create_task(slow_writer())
        await writing.wait()
        started = asyncio.get_running_loop().time()
        async with database.session_scope(readonly=True) as session:
            assert await session.scalar(select(func.count()).select_from(Account)) == 0
        assert asyncio.get_running_loop().time() - started < 0.5
        await writer
    finally:
        await database.dispose()


class RoundTrips:
    """Counts the transaction-ending and ping calls the dialect makes to the database."""

    def __init__(self, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[str] = Counter()
        dialect = database.primary.sync_engine.dialect
        for name in ("do_commit", "do_rollback", "do_ping"):
            monkeypatch.setattr(dialect, name, self._counting(name, getattr(dialect, name)))

    def _counting(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            self.calls[name] += 1
            return call(*args)

        return counted


@pytest.mark.parametrize(
    "case",
    [
        ("GET", "/accounts/1", 200, {"do_commit": 1}),
        ("GET", "/count", 200, {"do_commit": 1}),
        ("POST", "/signin/alice", 200, {"do_commit": 1}),
        ("POST", "/accounts/bob/fail", 400, {"do_rollback": 1}),
        ("GET", "/accounts/99", 404, {"do_rollback": 1}),
        ("GET", "/unused", 200, {}),
    ],
    ids=lambda case: f"{case[0]} {case[1]}",
)
async def test_a_request_ends_its_unit_in_at_most_one_round_trip_and_never_pings_sqlite(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, int, dict[str, int]],
) -> None:
    method, path, status, expected = case
    app, _ = make_app(sqlite_url)
    async with client_for(app) as client:
        await create_schema(app.state.db)
        assert (await client.post("/signin/first")).status_code == 200
        trips = RoundTrips(app.state.db, monkeypatch)
        for _ in range(5):
            assert (await client.request(method, path)).status_code == status
        assert trips.calls == {name: 5 * count for name, count in expected.items()}
        assert app.state.db.pool_status()["checked_out"] == 0


async def test_sqlite_request_units_begin_immediate_for_writes_and_deferred_for_reads(
    sqlite_url: str,
) -> None:
    from sqlalchemy import event

    from faster_core.testing import client_for
    from tests.db.app_kit import make_app

    app, _ = make_app(sqlite_url)
    async with client_for(app) as client:
        await create_schema(app.state.db)
        begins: list[str] = []  # what SQLite itself ran (BEGIN rides with the first statement)

        def seen(statement: str) -> None:  # on the connection's thread
            if statement.startswith("BEGIN"):
                begins.append(statement)

        def trace(dbapi_connection: Any, *args: object) -> None:
            dbapi_connection.run_async(lambda driver: driver.set_trace_callback(seen))

        event.listen(app.state.db.primary.sync_engine, "checkout", trace)
        assert (await client.post("/signin/a")).status_code == 200
        assert (await client.get("/accounts/1")).status_code == 200
        assert (await client.get("/count")).status_code == 200
    assert begins == ["BEGIN IMMEDIATE", "BEGIN", "BEGIN"]
