"""The `auth` plugin: signing key and verifier in the lifespan, the JWKS route, safety checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI

from faster_auth import hookspecs
from faster_auth._console import faster_describe_route
from faster_auth._version import __version__
from faster_auth.account_routes import accounts_router
from faster_auth.account_services import STATE_KEY as ACCOUNTS_STATE
from faster_auth.account_services import optional_account_services
from faster_auth.admin_routes import admin_router
from faster_auth.guard import STATE_KEY as GUARD_STATE
from faster_auth.guard import guard_lifespan, guarded_accounts_router
from faster_auth.models import auth_metadata
from faster_auth.openapi import document_password_policy, document_token_url
from faster_auth.providers import (
    external_health_checks,
    external_middleware,
    external_routers,
    open_auth,
    provider_problems,
)
from faster_auth.routes import jwks_router
from faster_auth.settings import AuthSettings, unsafe_auth_settings
from faster_core import (
    HealthCheck,
    MiddlewareSpec,
    PluginHost,
    PluginInfo,
    PluginLifespan,
    hookimpl,
)
from faster_db import MigrationSource

if TYPE_CHECKING:
    import pluggy

__all__ = [
    "NAME",
    "faster_add_hookspecs",
    "faster_check_settings",
    "faster_configure_app",
    "faster_db_migrations",
    "faster_describe_route",
    "faster_health_checks",
    "faster_lifespan",
    "faster_middleware",
    "faster_observability_metrics",
    "faster_plugin_info",
    "faster_routers",
]

NAME = "auth"


@hookimpl
def faster_plugin_info() -> PluginInfo:
    # `db` is optional: without it an external provider runs verify-only (no user store).
    return PluginInfo(NAME, __version__, after=("db", "redis"), settings=AuthSettings)


@hookimpl
def faster_check_settings(host: PluginHost) -> Iterable[str]:
    settings, env = host.settings_for(NAME, AuthSettings), host.settings.env
    return [
        *unsafe_auth_settings(settings, env),
        *provider_problems(settings, env, db_enabled=host.is_enabled("db")),
    ]


@hookimpl
def faster_routers(host: PluginHost) -> Iterable[APIRouter]:
    settings = host.settings_for(NAME, AuthSettings)
    if settings.provider != "local":
        return external_routers(settings, db_enabled=host.is_enabled("db"))
    return [
        jwks_router(settings.jwks_path),
        guarded_accounts_router(accounts_router(settings.routes_prefix)),
        admin_router(settings.routes_prefix),
    ]


@hookimpl
def faster_configure_app(app: FastAPI, host: PluginHost) -> None:
    settings = host.settings_for(NAME, AuthSettings)
    document_token_url(app, f"{settings.routes_prefix}/token")
    document_password_policy(
        app,
        settings.password_min_length,
        settings.password_max_length,
        refuse_common=settings.password_check_common,
    )


@hookimpl(optionalhook=True)
def faster_db_migrations() -> Iterable[MigrationSource]:
    """The users, roles and refresh-token tables (Alembic branch `auth`)."""
    return [MigrationSource(NAME, Path(__file__).parent / "versions", auth_metadata())]


@hookimpl
def faster_lifespan(host: PluginHost) -> PluginLifespan:
    settings = host.settings_for(NAME, AuthSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        database = getattr(app.state, "db", None) if host.is_enabled("db") else None
        async with (
            open_auth(settings, host.settings.env, database) as auth,
            guard_lifespan(app, host, auth) as guard,
            optional_account_services(host, auth, database) as accounts,
        ):
            yield {"auth": auth, GUARD_STATE: guard, ACCOUNTS_STATE: accounts}

    return lifespan


# Account flows, audit trail and hooks (auth-accounts).
@hookimpl
def faster_add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Publish faster-auth's account events (`faster_auth.hookspecs`)."""
    pm.add_hookspecs(hookspecs)


# Identity providers (auth-external).
@hookimpl
def faster_middleware(host: PluginHost) -> Iterable[MiddlewareSpec]:
    return external_middleware(host.settings_for(NAME, AuthSettings))


@hookimpl
def faster_health_checks(host: PluginHost) -> Iterable[HealthCheck]:
    return external_health_checks(host.settings_for(NAME, AuthSettings))


@hookimpl(optionalhook=True)
def faster_observability_metrics(registry: Any, host: PluginHost) -> None:
    """Auth outcome counters (`faster_auth_events_total`, `..._token_rejections_total`,
    `..._refreshes_total`, `..._revocations_total`, `..._throttled_total`), and the key-cache
    metrics (`faster_auth_jwks_*`) of an external provider, read at each scrape."""
    settings = host.settings_for(NAME, AuthSettings)
    settings.outcomes.bind(registry)
    if settings.provider != "local":
        settings.identity_metrics.bind(registry)
