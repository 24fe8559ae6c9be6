"""What the app is made of: plugins, routes and settings (secrets redacted).

Served under `/-/` only when debug is on outside production; also used by the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi.routing
from fastapi import APIRouter, FastAPI, Request
from fastapi.security.base import SecurityBase
from pydantic_settings import BaseSettings

from faster_core.plugins import PluginHost
from faster_core.problems import SENSITIVE_NAME

__all__ = [
    "describe_plugins",
    "describe_routes",
    "describe_settings",
    "introspection_router",
    "route_dependencies",
    "route_policy",
]

REDACTED = "**********"


def describe_plugins(host: PluginHost) -> list[dict[str, Any]]:
    """Every known plugin, enabled ones in order first, with its settings redacted."""
    records = host.enabled + [r for r in host.records if not r.enabled]
    return [
        {
            "name": r.name,
            "version": r.version,
            "source": str(r.source),
            "state": "enabled" if r.enabled else "disabled",
            "order": r.order,
            "requires": list(r.info.requires) if r.info else [],
            "after": list(r.info.after) if r.info else [],
            "hooks": r.hooks,
            "settings": _redacted(host.plugin_settings[r.name])
            if r.name in host.plugin_settings
            else None,
        }
        for r in records
    ]


def describe_routes(app: FastAPI) -> list[dict[str, Any]]:
    """Every route's path, methods, name and endpoint, included routers flattened."""
    # FastAPI 0.160+ keeps included routers as lazy entries; iter_route_contexts flattens them.
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = iter_contexts(app.routes) if iter_contexts else app.routes
    host: PluginHost | None = getattr(app.state, "faster", None)
    edge_routes = host.edge_routes if host is not None else []
    return [_describe_route(route, host) for route in [*edge_routes, *routes]]


def _describe_route(route: Any, host: PluginHost | None) -> dict[str, Any]:
    endpoint = getattr(route, "endpoint", None)
    return {
        "path": getattr(route, "path", None) or "",
        "methods": sorted(getattr(route, "methods", None) or []),
        "name": getattr(route, "name", None),
        "endpoint": f"{endpoint.__module__}.{endpoint.__qualname__}" if endpoint else None,
        "policy": route_policy(route, host),
    }


def route_dependencies(route: object) -> list[Callable[..., Any]]:
    """The callables of every dependency of `route`, depth first, router-level ones included."""
    calls: list[Callable[..., Any]] = []
    pending = list(reversed(getattr(getattr(route, "dependant", None), "dependencies", [])))
    while pending:
        dependant = pending.pop()
        if dependant.call is not None:
            calls.append(dependant.call)
        pending.extend(reversed(dependant.dependencies))
    return calls


def route_policy(route: object, host: PluginHost | None) -> dict[str, Any]:
    """What guards `route`: bearer auth (from FastAPI security dependencies), then what each
    plugin's `faster_describe_route` adds (roles, rate limit, cache)."""
    calls: list[object] = [*route_dependencies(route)]
    schemes = [call for call in calls if isinstance(call, SecurityBase)]
    auth = "none"
    if schemes:
        auth = "required" if any(getattr(s, "auto_error", True) for s in schemes) else "optional"
    policy: dict[str, Any] = {
        "auth": auth,
        "schemes": sorted({s.scheme_name for s in schemes}),
        "roles": [],
        "rate_limit": None,
        "cache": None,
    }
    if host is None:
        return policy
    for _plugin, described in host.call_in_order("faster_describe_route", route=route, host=host):
        for key, value in described.items():
            policy[key] = sorted({*policy["roles"], *value}) if key == "roles" else value
    return policy


def describe_settings(host: PluginHost) -> dict[str, Any]:
    """The core's settings and each plugin's, with secrets and secret-named values redacted."""
    core = _redacted(host.settings, exclude={"plugin_settings"})
    return {"core": core, "plugins": {n: _redacted(s) for n, s in host.plugin_settings.items()}}


def _redacted(settings: BaseSettings, exclude: set[str] | None = None) -> dict[str, Any]:
    dumped = settings.model_dump(mode="json", exclude=exclude)
    return {k: _redact_value(k, v) for k, v in dumped.items()}


def _redact_value(key: str, value: Any) -> Any:
    if SENSITIVE_NAME.search(key) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    return value


def introspection_router() -> APIRouter:
    router = APIRouter(prefix="/-", tags=["introspection"], include_in_schema=False)

    @router.get("/plugins")
    async def plugins(request: Request) -> list[dict[str, Any]]:
        return describe_plugins(request.app.state.faster)

    @router.get("/routes")
    async def routes(request: Request) -> list[dict[str, Any]]:
        return describe_routes(request.app)

    @router.get("/settings")
    async def settings(request: Request) -> dict[str, Any]:
        return describe_settings(request.app.state.faster)

    return router
