"""The notes app as a plugin: its routes, settings and migrations."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import APIRouter

from examples.notes.models import NotesBase
from examples.notes.routes import admin_router, notes_router
from examples.notes.settings import NotesSettings
from faster_core import PluginHost, PluginInfo, hookimpl
from faster_db import MigrationSource

__all__ = ["NAME", "NotesPlugin"]

NAME = "notes"
MIGRATIONS = Path(__file__).parent / "migrations"


class NotesPlugin:
    """Pass an instance to `create_app(plugins=[NotesPlugin()])`; no entry point needed."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo(NAME, "1.0.0", requires=("db", "auth", "redis"), settings=NotesSettings)

    @hookimpl
    def faster_routers(self, host: PluginHost) -> Iterable[APIRouter]:
        return [notes_router(host.settings_for(NAME, NotesSettings)), admin_router()]

    @hookimpl(optionalhook=True)
    def faster_db_migrations(self) -> Iterable[MigrationSource]:
        """The `notes` Alembic branch: run by `faster db upgrade` and the SQLite auto-upgrade."""
        return [MigrationSource(NAME, MIGRATIONS, NotesBase.metadata)]
