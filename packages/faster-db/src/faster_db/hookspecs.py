"""Hooks the db plugin publishes (added to each app's plugin manager by `faster_add_hookspecs`).

Implement them with `@faster_core.hookimpl(optionalhook=True)` so that your plugin still loads
when the db plugin is disabled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from faster_core import hookspec

if TYPE_CHECKING:
    from faster_core import PluginHost
    from faster_db.migrations import MigrationSource

__all__ = ["faster_db_migrations"]


@hookspec
def faster_db_migrations(host: PluginHost) -> Iterable[MigrationSource] | None:
    """The Alembic migration folders of a plugin that owns tables.

    Called whenever migrations run (`faster db ...`, the development auto-upgrade at start-up,
    the testing kit), in plugin order; upgrades run in that order and downgrades in reverse.

    Args:
        host: the app's plugin host.

    Returns:
        :class:`~faster_db.migrations.MigrationSource` values: a branch name (usually the
        plugin's name; the first revision in the folder carries it in `branch_labels`), the
        folder of revision files and, for `faster db revision --autogenerate`, the `MetaData`
        of the plugin's models.
    """
