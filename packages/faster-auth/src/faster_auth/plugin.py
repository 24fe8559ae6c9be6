"""The `auth` plugin: signing key and verifier in the lifespan, the JWKS route, safety checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

from faster_auth._version import __version__
from faster_auth.account_routes import accounts_router
from faster_auth.admin_routes import admin_router
from faster_auth.auth import Auth
from faster_auth.models import auth_metadata
from faster_auth.openapi import document_token_url
from faster_auth.routes import jwks_router
from faster_auth.settings import AuthSettings, unsafe_auth_settings
from faster_core import PluginHost, PluginInfo, PluginLifespan, hookimpl
from faster_db import MigrationSource

__all__ = [
    "NAME",
    "faster_check_settings",
    "faster_configure_app",
    "faster_db_migrations",
    "faster_lifespan",
    "faster_plugin_info",
    "faster_routers",
]

NAME = "auth"


@hookimpl
def faster_plugin_info() -> PluginInfo:
    return PluginInfo(NAME, __version__, requires=("db",), settings=AuthSettings)


@hookimpl
def faster_check_settings(host: PluginHost) -> Iterable[str]:
    return unsafe_auth_settings(host.settings_for(NAME, AuthSettings), host.settings.env)


@hookimpl
def faster_routers(host: PluginHost) -> Iterable[APIRouter]:
    settings = host.settings_for(NAME, AuthSettings)
    return [
        jwks_router(settings.jwks_path),
        accounts_router(settings.routes_prefix),
        admin_router(settings.routes_prefix),
    ]


@hookimpl
def faster_configure_app(app: FastAPI, host: PluginHost) -> None:
    prefix = host.settings_for(NAME, AuthSettings).routes_prefix
    document_token_url(app, f"{prefix}/token")


@hookimpl(optionalhook=True)
def faster_db_migrations() -> Iterable[MigrationSource]:
    """The users, roles and refresh-token tables (Alembic branch `auth`)."""
    return [MigrationSource(NAME, Path(__file__).parent / "versions", auth_metadata())]


@hookimpl
def faster_lifespan(host: PluginHost) -> PluginLifespan:
    settings = host.settings_for(NAME, AuthSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {"auth": Auth.from_settings(settings, host.settings.env)}

    return lifespan
