"""Alembic migrations, one branch per plugin, run on the app's async engine.

Each plugin that owns tables contributes a `MigrationSource` through the `faster_db_migrations`
hook: its folder of revision files, whose first revision carries the plugin's name in
`branch_labels`. `upgrade()` brings each branch to its head in plugin order; `downgrade("base")`
takes them down in reverse. The `faster db` commands call these functions.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from faster_db.database import Database
from faster_db.exceptions import MigrationError

__all__ = [
    "MigrationSource",
    "current",
    "downgrade",
    "history",
    "revision",
    "upgrade",
]

ENV_DIRECTORY = Path(__file__).parent / "_alembic"


@dataclass(frozen=True, slots=True)
class MigrationSource:
    """One plugin's migrations: its branch name, folder and (for autogenerate) metadata."""

    branch: str
    directory: Path
    metadata: MetaData | None = None


def builtin_source() -> MigrationSource:
    """The db plugin's own migrations (the configuration store)."""
    from faster_db.config_store import config_metadata  # noqa: PLC0415 - avoids an import cycle

    return MigrationSource("db", Path(__file__).parent / "versions", config_metadata())


def _config(sources: Sequence[MigrationSource], output: io.StringIO | None) -> Config:
    if not sources:
        raise MigrationError("no migration sources: no enabled plugin contributes migrations")
    missing = [str(s.directory) for s in sources if not s.directory.is_dir()]
    if missing:
        raise MigrationError(f"migration folders do not exist: {', '.join(missing)}")
    config = Config(stdout=output) if output is not None else Config()
    config.set_main_option("script_location", str(ENV_DIRECTORY))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", _join(s.directory for s in sources))
    return config


def _join(paths: Iterable[Path]) -> str:
    import os  # noqa: PLC0415

    return os.pathsep.join(str(p) for p in paths)


async def _run(
    database: Database,
    sources: Sequence[MigrationSource],
    action: Callable[[Config], Any],
    *,
    metadata: MetaData | None = None,
) -> str:
    """Run `action(config)` on a connection of the primary; return what Alembic printed."""
    output = io.StringIO()
    config = _config(sources, output)
    config.attributes["target_metadata"] = metadata

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        try:
            action(config)
        except CommandError as exc:
            raise MigrationError(str(exc)) from exc

    async with database.primary.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    return output.getvalue()


def _branches(config: Config) -> set[str]:
    script = ScriptDirectory.from_config(config)
    return {label for rev in script.walk_revisions() for label in rev.branch_labels}


async def upgrade(
    database: Database, sources: Sequence[MigrationSource], target: str | None = None
) -> str:
    """Each branch to its head in plugin order, or everything to `target` (an Alembic target)."""

    def action(config: Config) -> None:
        if target is not None:
            command.upgrade(config, target)
            return
        known = _branches(config)
        for source in sources:
            command.upgrade(config, f"{source.branch}@head" if source.branch in known else "heads")

    return await _run(database, sources, action)


async def downgrade(database: Database, sources: Sequence[MigrationSource], target: str) -> str:
    """`base`: every branch to its base, in reverse plugin order; else an Alembic target."""

    def action(config: Config) -> None:
        if target != "base":
            command.downgrade(config, target)
            return
        known = _branches(config)
        for source in reversed(sources):
            if source.branch in known:
                command.downgrade(config, f"{source.branch}@base")
        command.downgrade(config, "base")

    return await _run(database, sources, action)


async def current(database: Database, sources: Sequence[MigrationSource]) -> str:
    """The revisions the database is at."""
    return await _run(database, sources, lambda config: command.current(config, verbose=False))


async def history(database: Database, sources: Sequence[MigrationSource]) -> str:
    """Every revision of every branch."""
    return await _run(database, sources, command.history)


async def revision(
    database: Database,
    sources: Sequence[MigrationSource],
    *,
    branch: str,
    message: str,
    autogenerate: bool = False,
) -> str:
    """A new revision file in `branch`'s folder (the first one starts the branch)."""
    by_branch = {s.branch: s for s in sources}
    if branch not in by_branch:
        raise MigrationError(f"no migration source named {branch!r}: {', '.join(by_branch)}")
    source = by_branch[branch]

    def action(config: Config) -> None:
        exists = branch in _branches(config)
        command.revision(
            config,
            message=message,
            autogenerate=autogenerate,
            head=f"{branch}@head" if exists else "base",
            branch_label=None if exists else branch,
            version_path=str(source.directory),
        )

    return await _run(database, sources, action, metadata=source.metadata)
