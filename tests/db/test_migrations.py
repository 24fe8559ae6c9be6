"""Alembic migrations per plugin, the `faster db` commands and the development auto-upgrade
(faster_db/migrations.py, faster_db/cli.py, faster_db/plugin.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Integer, MetaData, String, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from faster_core import PluginHost, PluginInfo, hookimpl
from faster_core.cli import main
from faster_core.testing import client_for
from faster_db import Database, DBSettings, MigrationError, MigrationSource, migrations
from faster_db.migrations import builtin_source
from tests.db.app_kit import make_app

pytestmark = pytest.mark.anyio

NOTES_REVISION = '''
"""notes table"""

import sqlalchemy as sa
from alembic import op

revision = "notes_0001"
down_revision = None
branch_labels = ("notes",)
depends_on = "db_0001"


def upgrade():
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("body", sa.String(200), nullable=False),
    )


def downgrade():
    op.drop_table("notes")
'''


class ShopBase(DeclarativeBase):
    """Another plugin's models, on metadata of their own."""

    metadata = MetaData()


class Product(ShopBase):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


@pytest.fixture
def notes_source(tmp_path: Path) -> MigrationSource:
    folder = tmp_path / "notes_migrations"
    folder.mkdir()
    (folder / "notes_0001.py").write_text(textwrap.dedent(NOTES_REVISION))
    return MigrationSource("notes", folder)


async def tables(database: Database) -> set[str]:
    async with database.primary.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    return set(names) - {"alembic_version"}


async def test_upgrade_from_empty_downgrade_to_base_and_upgrade_again(
    db_url: str, notes_source: MigrationSource
) -> None:
    database = Database(DBSettings(_env_file=None, url=db_url))
    sources = [builtin_source(), notes_source]
    try:
        assert await tables(database) == set()
        await migrations.upgrade(database, sources)
        assert await tables(database) == {"faster_config_entries", "notes"}
        assert "db_0001" in await migrations.current(database, sources)
        await migrations.downgrade(database, sources, "base")
        assert await tables(database) == set()
        await migrations.upgrade(database, sources)
        assert await tables(database) == {"faster_config_entries", "notes"}
        history = await migrations.history(database, sources)
        assert "notes_0001" in history
        assert "db_0001" in history
    finally:
        await database.dispose()


async def test_a_missing_migration_folder_is_named(sqlite_url: str, tmp_path: Path) -> None:
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        with pytest.raises(MigrationError, match="do not exist"):
            await migrations.upgrade(database, [MigrationSource("x", tmp_path / "nope")])
    finally:
        await database.dispose()


async def test_revision_starts_a_branch_then_continues_it(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    sources = [builtin_source(), MigrationSource("shop", folder)]
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        await migrations.revision(database, sources, branch="shop", message="first")
        await migrations.revision(database, sources, branch="shop", message="second")
        await migrations.upgrade(database, sources)
        current = await migrations.current(database, sources)
    finally:
        await database.dispose()
    files = sorted(p.name for p in folder.glob("*.py"))
    assert len(files) == 2
    texts = [p.read_text() for p in folder.glob("*.py")]
    assert (
        sum("branch_labels: Union[str, Sequence[str], None] = ('shop',)" in t for t in texts) == 1
    )
    assert "(head)" in current


class NotesPlugin:
    def __init__(self, source: MigrationSource) -> None:
        self.source = source

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("notes", requires=("db",))

    @hookimpl(optionalhook=True)
    def faster_db_migrations(self, host: PluginHost) -> Iterable[MigrationSource]:
        return [self.source]


async def test_development_on_sqlite_applies_every_plugins_migrations_at_startup(
    sqlite_url: str, notes_source: MigrationSource
) -> None:
    import faster_db.plugin
    from faster_core import FasterSettings, create_app
    from faster_core.settings import Environment

    settings = FasterSettings(
        _env_file=None, env=Environment.DEVELOPMENT, plugin_settings={"db": {"url": sqlite_url}}
    )
    app = create_app(
        settings, plugins=[faster_db.plugin, NotesPlugin(notes_source)], load_entrypoints=False
    )
    async with client_for(app):
        assert await tables(app.state.db) == {"faster_config_entries", "notes"}


async def test_auto_migrate_off_leaves_the_database_alone(sqlite_url: str) -> None:
    app, _ = make_app(sqlite_url, auto_migrate=False)
    async with client_for(app):
        assert await tables(app.state.db) == set()
    app, _ = make_app(sqlite_url)  # env=test: off unless asked for
    async with client_for(app):
        assert await tables(app.state.db) == set()


def test_faster_db_commands_upgrade_show_and_downgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FASTER_DB_URL", url)
    monkeypatch.setenv("FASTER_PLUGINS", "db")
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    current = runner.invoke(main, ["db", "current"])
    assert "db_0001 (head)" in current.output
    history = runner.invoke(main, ["db", "history"])
    assert "db_0001" in history.output
    downgraded = runner.invoke(main, ["db", "downgrade", "base"])
    assert downgraded.exit_code == 0, downgraded.output
    assert "db_0001" not in runner.invoke(main, ["db", "current"]).output
    unknown = runner.invoke(main, ["db", "revision", "-m", "x", "--branch", "nope"])
    assert unknown.exit_code != 0
    assert "no migration source named 'nope'" in unknown.output


async def test_autogenerate_diffs_only_the_branchs_own_models(
    sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    sources = [builtin_source(), MigrationSource("shop", folder, ShopBase.metadata)]
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        await migrations.upgrade(database, sources)  # the db branch's table now exists
        await migrations.revision(
            database, sources, branch="shop", message="products", autogenerate=True
        )
        (script,) = folder.glob("*.py")
        body = script.read_text()
        assert "op.create_table('products'" in body
        assert "faster_config_entries" not in body  # another plugin's table is left alone
        await migrations.upgrade(database, sources)
        assert await tables(database) == {"faster_config_entries", "products"}
    finally:
        await database.dispose()
