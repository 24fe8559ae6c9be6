"""SQLite statements in one thread hand-off each (faster_db/_aiosqlite.py, faster_db/_engine.py).

aiosqlite runs every call on its connection's thread and wakes the event loop with each result;
those wake-ups are what the tests count (a deterministic figure, not a timing).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from faster_core.testing import client_for
from faster_db import Database, DBSettings
from faster_db._aiosqlite import PREFETCH_ROWS
from tests.db.app_kit import Account, create_schema, make_app

pytestmark = pytest.mark.anyio


class HandOffs:
    """Results aiosqlite's threads hand back to the running loop (one per driver call)."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def counting(self) -> Iterator[None]:
        loop: Any = asyncio.get_running_loop()
        hand_back: Callable[..., Any] = loop.call_soon_threadsafe

        def counted(callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            if getattr(callback, "__module__", "") == "aiosqlite.core":
                self.count += 1
            return hand_back(callback, *args, **kwargs)

        loop.call_soon_threadsafe = counted
        try:
            yield
        finally:
            del loop.call_soon_threadsafe


@pytest.mark.parametrize(
    ("method", "path", "status", "hand_offs"),
    [
        # the primary-key SELECT (BEGIN runs with it), COMMIT
        # (stock SQLAlchemy + aiosqlite: BEGIN 3, SELECT 4, COMMIT 1)
        ("GET", "/accounts/1", 200, 2),
        # two counts, COMMIT (stock: 3 + 4 + 4 + 1)
        ("GET", "/count", 200, 3),
        # the upsert (INSERT .. ON CONFLICT .. RETURNING, BEGIN IMMEDIATE with it), the child
        # INSERT, COMMIT (stock: 3 + 4 + 4 + 1)
        ("POST", "/signin/alice", 200, 3),
        # a write rolled back: the INSERT, ROLLBACK (stock: 3 + 4 + 1)
        ("POST", "/accounts/bob/fail", 400, 2),
        # a session declared, never used: nothing
        ("GET", "/unused", 200, 0),
    ],
)
async def test_a_request_costs_one_thread_hand_off_per_statement(
    sqlite_url: str, method: str, path: str, status: int, hand_offs: int
) -> None:
    app, _ = make_app(sqlite_url)
    async with client_for(app) as client:
        await create_schema(app.state.db)
        assert (await client.post("/signin/first")).status_code == 200
        handed = HandOffs()
        with handed.counting():
            for _ in range(5):
                assert (await client.request(method, path)).status_code == status
        assert handed.count == 5 * hand_offs


@pytest.fixture
async def database(sqlite_url: str) -> Any:
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    await create_schema(database)
    yield database
    await database.dispose()


async def test_results_larger_than_the_prefetch_return_every_row(database: Database) -> None:
    rows = PREFETCH_ROWS * 2 + 7
    async with database.session_scope() as session:
        await session.execute(insert(Account), [{"key": f"k{i:05}"} for i in range(rows)])
    async with database.session_scope() as session:
        keys = list(await session.scalars(select(Account.key).order_by(Account.key)))
    assert keys == [f"k{i:05}" for i in range(rows)]


async def test_a_streamed_result_arrives_in_order_and_can_be_left_early(
    database: Database,
) -> None:
    rows = PREFETCH_ROWS + 50
    async with database.session_scope() as session:
        await session.execute(insert(Account), [{"key": f"k{i:05}"} for i in range(rows)])
    async with database.primary.connect() as connection:
        streamed = [
            key
            async for key in await connection.stream_scalars(
                select(Account.key).order_by(Account.key)
            )
        ]
        assert streamed == [f"k{i:05}" for i in range(rows)]
        partial = await connection.stream_scalars(select(Account.key).order_by(Account.key))
        assert [await partial.__anext__() for _ in range(3)] == ["k00000", "k00001", "k00002"]
        await partial.close()
        assert await connection.scalar(select(func.count()).select_from(Account)) == rows


async def test_rowcount_and_lastrowid_are_the_statements(database: Database) -> None:
    async with database.primary.begin() as connection:
        inserted = await connection.exec_driver_sql(
            "INSERT INTO test_accounts (key, created_at, updated_at) "
            "VALUES ('a', '2026-01-01', '2026-01-01')"
        )
        assert inserted.lastrowid == 1
        many = await connection.exec_driver_sql(  # executemany
            "INSERT INTO test_accounts (key, created_at, updated_at) VALUES (?, ?, ?)",
            [("b", "2026-01-01", "2026-01-01"), ("c", "2026-01-01", "2026-01-01")],
        )
        assert many.rowcount == 2
        await connection.execute(insert(Account), [{"key": "d"}, {"key": "e"}])
        changed = await connection.execute(update(Account).values(name="n"))
        assert changed.rowcount == 5


async def test_a_failed_statement_maps_and_leaves_the_connection_usable(
    database: Database,
) -> None:
    async with database.primary.connect() as connection:
        with pytest.raises(OperationalError, match="no such table"):
            await connection.execute(text("SELECT * FROM missing"))
        await connection.rollback()
        assert await connection.scalar(text("SELECT 41 + 1")) == 42


async def test_begin_immediate_on_a_locked_database_answers_503_then_recovers(
    sqlite_url: str, tmp_path: Path
) -> None:
    app, _ = make_app(sqlite_url, sqlite_busy_timeout=0.1)
    async with client_for(app) as client:
        await create_schema(app.state.db)
        holder = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            response = await client.post("/signin/waiting")
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert "retry-after" in response.headers
            assert "database is locked" not in response.text  # never the driver's text
        finally:
            holder.close()
        assert (await client.post("/signin/waiting")).status_code == 200
        assert app.state.db.pool_status()["checked_out"] == 0


async def test_a_transaction_that_ran_nothing_ends_without_a_hand_off(database: Database) -> None:
    handed = HandOffs()
    async with database.primary.connect() as connection:
        with handed.counting():
            await connection.begin()
            await connection.commit()
            await connection.begin()
            await connection.rollback()
        assert handed.count == 0
        async with connection.begin():  # the next one still begins, with its first statement
            await connection.execute(insert(Account), [{"key": "a"}])
            assert connection.sync_connection is not None
            raw: Any = connection.sync_connection.connection.driver_connection
            assert raw.in_transaction
    async with database.session_scope() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 1
