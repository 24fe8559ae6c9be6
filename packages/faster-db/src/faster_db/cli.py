"""`faster db ...`: Alembic migrations of every enabled plugin, on the configured database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import click

from faster_core import PluginHost
from faster_db import migrations
from faster_db.database import Database
from faster_db.exceptions import FasterDBError
from faster_db.settings import DBSettings

__all__ = ["db_group"]


Action = Callable[[Database, list[migrations.MigrationSource]], Awaitable[str]]


def db_group(host: PluginHost) -> click.Group:
    """The `db` command group for `host`'s settings and plugins."""
    from faster_db.plugin import NAME, migration_sources  # noqa: PLC0415 - plugin imports us

    settings = host.settings_for(NAME, DBSettings)

    def run(action: Action) -> None:
        async def main() -> str:
            database = Database(settings)
            try:
                return await action(database, migration_sources(host))
            finally:
                await database.dispose()

        try:
            output = asyncio.run(main())
        except FasterDBError as exc:
            raise click.ClickException(str(exc)) from exc
        if output:
            click.echo(output, nl=False)

    group = click.Group("db", help="Database migrations (Alembic), one branch per plugin.")
    _add_commands(group, run)
    return group


def _add_commands(group: click.Group, run: Callable[[Action], None]) -> None:
    @group.command()
    @click.argument("target", required=False)
    def upgrade(target: str | None) -> None:
        """Apply migrations: every plugin's branch to its head, or up to TARGET."""
        run(lambda db, sources: migrations.upgrade(db, sources, target))
        click.echo("upgraded")

    @group.command()
    @click.argument("target")
    def downgrade(target: str) -> None:
        """Revert migrations down to TARGET ('base' reverts every plugin's, in reverse order)."""
        run(lambda db, sources: migrations.downgrade(db, sources, target))
        click.echo("downgraded")

    @group.command()
    def current() -> None:
        """Show the revisions the database is at."""
        run(migrations.current)

    @group.command()
    def history() -> None:
        """List every plugin's revisions."""
        run(migrations.history)

    @group.command()
    @click.option("-m", "--message", required=True, help="What the revision does.")
    @click.option("--branch", default="db", show_default=True, help="The plugin's branch.")
    @click.option("--autogenerate", is_flag=True, help="Diff the branch's models against the DB.")
    def revision(message: str, branch: str, autogenerate: bool) -> None:
        """Create a revision file in BRANCH's migration folder."""
        run(
            lambda db, sources: migrations.revision(
                db, sources, branch=branch, message=message, autogenerate=autogenerate
            )
        )
