"""Every hook of the core, in the order the app factory calls them.

Hooks are synchronous and declarative: implementations return things and the core composes them
(pluggy cannot await). Plugins implement them with `@hookimpl`; pluggy lets an implementation
accept any subset of the documented arguments. Plugins are called in their resolved order
(requirements first); results from plugins that return `None` are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter, FastAPI

    from faster_core.health import HealthCheck
    from faster_core.lifespan import PluginLifespan
    from faster_core.middleware import MiddlewareSpec, RequestObserver
    from faster_core.plugins import PluginHost, PluginInfo
    from faster_core.problems import ExceptionHandler

__all__ = ["hookimpl", "hookspec"]

PROJECT = "faster"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- description: called before the plugin is registered ------------------------------------


@hookspec
def faster_plugin_info() -> PluginInfo:  # type: ignore[empty-body]
    """Describe the plugin: name, version, `requires`, `after` and its settings model.

    Called once per candidate plugin, directly on the plugin object and before it is registered,
    so that the core can decide whether to enable it and where it goes in the order. Every
    plugin must implement it.

    Returns:
        A :class:`~faster_core.plugins.PluginInfo`. Its `name` must equal the plugin's entry-point
        name; its `settings` model (a :class:`~faster_core.settings.PluginSettings` subclass, or
        `None`) is read from `FASTER_<NAME>_*` variables, `.env` and
        `FasterSettings.plugin_settings[name]`, and is what `host.settings_for(name)` returns.
    """


# -- registration --------------------------------------------------------------------------


@hookspec(historic=True)
def faster_add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Publish a plugin's own hooks, e.g. auth events that other plugins implement.

    Called once for every plugin when the plugins are registered, before unknown hooks are
    rejected. The hook is historic: a plugin registered later is called too, so the order of
    publishers and implementers does not matter.

    Args:
        pm: this app's plugin manager; call `pm.add_hookspecs(module_or_class)` on it.

    Returns:
        Nothing.
    """


# -- settings: called once after every plugin's settings are read ----------------------------


@hookspec
def faster_check_settings(host: PluginHost) -> Iterable[str] | None:
    """Reasons the settings are unsafe or cannot work, beyond the core's own checks.

    Called once by `create_app` and by `faster check`, after every plugin's settings are read and
    before the app is built. Check what the core cannot know, e.g. a metrics endpoint left public
    in production.

    Args:
        host: the plugin host; `host.settings.env` says which environment this is.

    Returns:
        One sentence per problem, naming the environment variable to change. Any reason at all
        refuses start-up with an `UnsafeSettingsError` listing every reason.
    """


# -- app composition: called once by create_app, after settings and ordering ------------------


@hookspec
def faster_routers(host: PluginHost) -> Iterable[APIRouter] | None:
    """Routers to mount on the app.

    Called once while the app is built, after all settings are read.

    Args:
        host: the app's plugin host (settings, enabled plugins, feature flags).

    Returns:
        Routers, each mounted with `app.include_router(router)`; give them their own prefix.
    """


@hookspec
def faster_middleware(host: PluginHost) -> Iterable[MiddlewareSpec] | None:
    """Pure ASGI middleware to install, each with an order slot.

    Called once while the app is built.

    Args:
        host: the app's plugin host.

    Returns:
        :class:`~faster_core.middleware.MiddlewareSpec` values. A lower `slot` wraps outside a
        higher one (see :class:`~faster_core.middleware.Slot`); equal slots follow plugin order.
        The class must be pure ASGI (`__init__(app, **options)`, `async __call__(scope, receive,
        send)`); `BaseHTTPMiddleware` subclasses are refused.
    """


@hookspec
def faster_request_observers(host: PluginHost) -> Iterable[RequestObserver] | None:
    """Observers that watch every HTTP request from the request id's pass (access logs, metrics).

    Called once while the app is built, by the `http` plugin; with it disabled nobody is called
    and a plugin that must observe adds a middleware of its own instead. Watching from the
    outermost layer's existing pass costs a request a few calls, where a middleware of one's own
    costs a layer and a wrapped `send`.

    Args:
        host: the app's plugin host.

    Returns:
        :class:`~faster_core.middleware.RequestObserver` values; each request is shown to them
        in plugin order, and every response is seen, errors answered by the core included.
    """


@hookspec
def faster_exception_handlers(
    host: PluginHost,
) -> Mapping[type[Exception] | int, ExceptionHandler] | None:
    """Exception handlers to register on the app.

    Called once while the app is built. Map your library's errors to the suite's here, or render
    them as problem responses with :func:`faster_core.problems.problem_response`.

    Args:
        host: the app's plugin host.

    Returns:
        A mapping of exception class (or status code) to an async handler
        `(request, exc) -> Response`. A later plugin replaces an earlier one for the same key.
    """


@hookspec
def faster_health_checks(host: PluginHost) -> Iterable[HealthCheck] | None:
    """Health checks for `/health` and `/health/ready`.

    Called once while the app is built; the checks themselves run per health request,
    concurrently, each under its own timeout.

    Args:
        host: the app's plugin host.

    Returns:
        :class:`~faster_core.health.HealthCheck` values (name, async check taking the app,
        critical or not, timeout). Names must be unique across plugins.
    """


@hookspec
def faster_lifespan(host: PluginHost) -> PluginLifespan | None:
    """The plugin's start-up and shutdown.

    Called once while the app is built; the returned factory is entered at start-up, in plugin
    order, and left at shutdown in reverse order, also when a later plugin fails to start.

    Args:
        host: the app's plugin host.

    Returns:
        A callable taking the app and returning an async context manager. What it yields (a
        mapping, or `None`) is merged into the lifespan state (`request.state`) and `app.state`.
        An exception raised while entering stops start-up with a
        :class:`~faster_core.exceptions.PluginStartupError` naming the plugin.
    """


@hookspec
def faster_configure_app(app: FastAPI, host: PluginHost) -> None:
    """Last-chance escape hatch: change the finished app.

    Called once, after routers, middleware, exception handlers and health checks are in place.

    Args:
        app: the FastAPI app being built.
        host: the app's plugin host.

    Returns:
        Nothing.
    """


# -- introspection: called while debug surfaces describe the app ----------------------------


@hookspec
def faster_describe_route(route: object, host: PluginHost) -> Mapping[str, Any] | None:
    """What this plugin enforces on one route: roles, a rate limit, a response cache.

    Called once per route each time the routes are described (`GET /-/routes`, the developer
    console, `faster routes`), never while serving requests. The core itself reports whether a
    route needs a bearer credential (any FastAPI `SecurityBase` among its dependencies); plugins
    add what only they can recognise. `faster_core.introspection.route_dependencies(route)`
    lists the route's dependency callables, router-level ones included.

    Args:
        route: the route: a Starlette / FastAPI route, or for routers included into the app
            FastAPI's `RouteContext`; read `path`, `endpoint` and `dependant` with `getattr`.
        host: the app's plugin host.

    Returns:
        A JSON-serialisable mapping merged into the route's `policy`: `roles` (a list; lists
        from several plugins are joined), `rate_limit` (text such as `"5/60s"`), `cache`
        (a mapping such as `{"ttl": 60.0}`), or any other key of the plugin's own; `None`
        when the plugin has nothing to say about this route.
    """


# -- command line ---------------------------------------------------------------------------


@hookspec
def faster_cli_commands(host: PluginHost) -> Iterable[click.Command] | None:
    """Commands to add to the `faster` command line.

    Called when the CLI looks up a command that is not one of the core's.

    Args:
        host: a plugin host built from the current settings (no app, no lifespan).

    Returns:
        `click` commands or groups; their names must not clash with another plugin's.
    """
