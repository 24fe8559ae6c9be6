"""The `db` plugin: the engine in the lifespan, the request unit, error mapping, health, CLI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import click
import pluggy
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from faster_core import (
    HealthCheck,
    MiddlewareSpec,
    PluginHost,
    PluginInfo,
    PluginLifespan,
    Slot,
    hookimpl,
)
from faster_core.problems import ExceptionHandler
from faster_db import hookspecs, migrations
from faster_db._errors import render, to_problem
from faster_db._version import __version__
from faster_db.database import Database
from faster_db.health import db_health_check
from faster_db.middleware import SESSIONS_KEY, RequestUnitMiddleware
from faster_db.settings import DBSettings, redact_url

__all__ = [
    "faster_add_hookspecs",
    "faster_cli_commands",
    "faster_db_migrations",
    "faster_exception_handlers",
    "faster_health_checks",
    "faster_lifespan",
    "faster_middleware",
    "faster_observability_metrics",
    "faster_plugin_info",
    "migration_sources",
]

logger = logging.getLogger(__name__)
NAME = "db"


@hookimpl
def faster_plugin_info() -> PluginInfo:
    return PluginInfo(NAME, __version__, settings=DBSettings)


@hookimpl
def faster_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def faster_db_migrations() -> Iterable[migrations.MigrationSource]:
    return [migrations.builtin_source()]


def migration_sources(host: PluginHost) -> list[migrations.MigrationSource]:
    """Every enabled plugin's migration sources, in plugin order."""
    return [
        source
        for _, sources in host.call_in_order("faster_db_migrations", host=host)
        for source in sources
    ]


@hookimpl
def faster_lifespan(host: PluginHost) -> PluginLifespan:
    settings = host.settings_for(NAME, DBSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        database = Database(settings)
        settings.metrics.database = database
        try:
            if settings.migrates_on_startup(host.settings.env):
                logger.info("applying pending migrations to %s", redact_url(settings.url))
                await migrations.upgrade(database, migration_sources(host))
            yield {"db": database}
        finally:
            settings.metrics.database = None
            await database.dispose()

    return lifespan


@hookimpl
def faster_middleware(host: PluginHost) -> Iterable[MiddlewareSpec]:
    retry_after = host.settings_for(NAME, DBSettings).retry_after
    return [MiddlewareSpec(RequestUnitMiddleware, Slot.DEFAULT, {"retry_after": retry_after})]


@hookimpl
def faster_exception_handlers(
    host: PluginHost,
) -> Mapping[type[Exception] | int, ExceptionHandler]:
    retry_after = host.settings_for(NAME, DBSettings).retry_after

    async def database_error(request: Request, exc: Exception) -> Response:
        # A bare OSError is the database's only when this request used it.
        if isinstance(exc, SQLAlchemyError) or request.scope.get(SESSIONS_KEY):
            problem = to_problem(exc, retry_after)
            if problem is not None:
                return render(request.scope, problem)
        raise exc

    return {SQLAlchemyError: database_error, OSError: database_error}


@hookimpl
def faster_health_checks(host: PluginHost) -> Iterable[HealthCheck]:
    return [db_health_check(host.settings_for(NAME, DBSettings))]


@hookimpl(optionalhook=True)
def faster_observability_metrics(registry: Any, host: PluginHost) -> None:
    """Pool gauges (`faster_db_pool_*`) on the app's registry, read at each scrape."""
    host.settings_for(NAME, DBSettings).metrics.bind(registry)


@hookimpl
def faster_cli_commands(host: PluginHost) -> Iterable[click.Command]:
    from faster_db.cli import db_group  # noqa: PLC0415 - the CLI is only built when asked for

    return [db_group(host)]
