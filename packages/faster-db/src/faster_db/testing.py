"""The pytest plugin (entry point `pytest11`) with database fixtures for users' own tests.

Fixtures:
    faster_db_url: the test database's URL (session): `FASTER_DB_TEST_URL`, or a SQLite file
        in the session's temporary directory.
    faster_db_migration_sources: the migrations to apply (session); override it to add your
        plugin's `MigrationSource`.
    faster_db_migrated_url: `faster_db_url` with every migration applied, once per session.
    faster_db_database: a `Database` on the migrated database (per test), disposed after.
    faster_db_session: a session inside a transaction rolled back when the test ends; code
        under test may commit (it commits a SAVEPOINT).

Async fixtures run under anyio's pytest plugin (mark tests with `@pytest.mark.anyio`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from faster_db import migrations
from faster_db.database import Database
from faster_db.settings import DBSettings

__all__ = [
    "faster_db_database",
    "faster_db_migrated_url",
    "faster_db_migration_sources",
    "faster_db_session",
    "faster_db_url",
]

TEST_URL_VARIABLE = "FASTER_DB_TEST_URL"


@pytest.fixture(scope="session")
def faster_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    configured = os.environ.get(TEST_URL_VARIABLE)
    if configured:
        return configured
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('faster_db') / 'test.db'}"


@pytest.fixture(scope="session")
def faster_db_migration_sources() -> list[migrations.MigrationSource]:
    return [migrations.builtin_source()]


@pytest.fixture(scope="session")
def faster_db_migrated_url(
    faster_db_url: str, faster_db_migration_sources: list[migrations.MigrationSource]
) -> str:
    async def upgrade() -> None:
        database = Database(DBSettings(_env_file=None, url=faster_db_url))
        try:
            await migrations.upgrade(database, faster_db_migration_sources)
        finally:
            await database.dispose()

    asyncio.run(upgrade())
    return faster_db_url


@pytest.fixture
async def faster_db_database(
    faster_db_migrated_url: str, anyio_backend: str
) -> AsyncIterator[Database]:
    database = Database(DBSettings(_env_file=None, url=faster_db_migrated_url))
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def faster_db_session(faster_db_database: Database) -> AsyncIterator[AsyncSession]:
    async with faster_db_database.primary.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()
