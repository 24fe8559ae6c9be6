"""The app factory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

from faster_core.exceptions import UnsafeSettingsError
from faster_core.lifespan import compose_lifespan
from faster_core.middleware import install_middleware
from faster_core.plugin import builtin_plugins
from faster_core.plugins import PluginHost
from faster_core.routing import index_routes
from faster_core.settings import FasterSettings, unsafe_settings

__all__ = ["create_app"]


def create_app(
    settings: FasterSettings | None = None,
    *,
    plugins: Sequence[object] | None = None,
    load_entrypoints: bool = True,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """Build a FastAPI app from the core's built-ins, `plugins` and installed entry points.

    Args:
        settings: the core settings; read from `FASTER_*` variables and `.env` when omitted.
        plugins: plugin objects to register besides the installed ones (always enabled unless
            named in `FASTER_DISABLED_PLUGINS`).
        load_entrypoints: discover installed plugins in the `faster` entry-point group.
        fastapi_kwargs: passed to `FastAPI(...)`; a `lifespan` given here runs after every
            plugin's.

    Raises:
        PluginError: a plugin failed to import, a requirement is missing, or a cycle exists.
        UnsafeSettingsError: the settings are unsafe (each reason names its variable).
    """
    settings = settings if settings is not None else FasterSettings()
    host = PluginHost.build(
        settings,
        builtins=builtin_plugins(),
        plugins=plugins or (),
        load_entrypoints=load_entrypoints,
    )
    refuse_unsafe_settings(host)

    app_lifespan = fastapi_kwargs.pop("lifespan", None)
    docs = settings.docs_enabled
    fastapi_kwargs.setdefault("title", settings.title)
    app = FastAPI(
        # FastAPI's debug renders tracebacks to clients; the errors plugin owns error output.
        debug=False,
        lifespan=compose_lifespan(
            host.call_in_order("faster_lifespan", host=host),
            app_lifespan,
            freeze_heap=settings.gc_freeze_enabled,
        ),
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        **fastapi_kwargs,
    )
    app.state.faster = host
    _compose(app, host)
    index_routes(app)
    return app


def refuse_unsafe_settings(host: PluginHost) -> None:
    """Raise `UnsafeSettingsError` with every reason the core and the plugins find."""
    problems = unsafe_settings(host.settings, host.plugin_settings)
    for _, reasons in host.call_in_order("faster_check_settings", host=host):
        problems.extend(reasons)
    if problems:
        raise UnsafeSettingsError("refusing to start: " + "; ".join(problems))


def _compose(app: FastAPI, host: PluginHost) -> None:
    for _, routers in host.call_in_order("faster_routers", host=host):
        for router in routers:
            app.include_router(router)
    for _, handlers in host.call_in_order("faster_exception_handlers", host=host):
        for key, handler in handlers.items():
            app.add_exception_handler(key, handler)
    install_middleware(
        app,
        [
            (plugin, spec)
            for plugin, specs in host.call_in_order("faster_middleware", host=host)
            for spec in specs
        ],
    )
    if host.edge_routes:
        _document_edge_routes(app, host.edge_routes)
    host.call_in_order("faster_configure_app", app=app, host=host)


def _document_edge_routes(app: FastAPI, routes: list[BaseRoute]) -> None:
    """Add routes served ahead of the router to the app's OpenAPI schema."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_schema()  # FastAPI caches it as app.openapi_schema, which we extend
        extra = get_openapi(title=app.title, version=app.version, routes=routes)
        schema.setdefault("paths", {}).update(extra.get("paths", {}))
        components = extra.get("components", {}).get("schemas", {})
        if components:
            schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point
