"""The `auth` Alembic branch creates exactly the tables the models describe, and drops them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from faster_auth import plugin
from faster_auth.models import auth_metadata
from faster_db import Database, DBSettings, migrations
from faster_db.plugin import faster_db_migrations as db_sources

pytestmark = pytest.mark.anyio


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection)
    return [d for d in compare_metadata(context, auth_metadata()) if _ours(d)]


def _ours(difference: Any) -> bool:
    return "faster_auth" in repr(difference)


def _tables(connection: Connection) -> set[str]:
    return {t for t in inspect(connection).get_table_names() if t.startswith("faster_auth")}


async def test_the_migration_matches_the_models(tmp_path: Path) -> None:
    database = Database(DBSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"))
    sources = [*db_sources(), *plugin.faster_db_migrations()]
    try:
        await migrations.upgrade(database, sources)
        async with database.primary.connect() as connection:
            assert await connection.run_sync(_diff) == []
            assert await connection.run_sync(_tables) == {
                "faster_auth_users",
                "faster_auth_user_roles",
                "faster_auth_refresh_tokens",
                "faster_auth_one_time_tokens",
                "faster_auth_audit_events",
                "faster_auth_revoked_tokens",
                "faster_auth_sign_in_failures",
            }
        await migrations.downgrade(database, sources, "base")
        async with database.primary.connect() as connection:
            assert await connection.run_sync(_tables) == set()
    finally:
        await database.dispose()


def test_the_plugin_contributes_the_auth_branch() -> None:
    (source,) = plugin.faster_db_migrations()
    assert source.branch == "auth"
    assert (source.directory / "auth_0001_accounts.py").is_file()
