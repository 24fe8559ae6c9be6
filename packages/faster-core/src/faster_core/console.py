"""The developer console: one framework-free page over the app's own JSON endpoints.

Served at `/-/console` only when debug is on outside production: the `introspection` plugin adds
this router then, and otherwise the route does not exist (404). Every asset ships inside the
package (`console_assets/`); the page is answered with a Content-Security-Policy that allows
this origin only, so it cannot load or send anything elsewhere, even by mistake. The page calls
the same endpoints any client would (`/-/plugins`, `/health`, the metrics path, the auth API with
the signed-in user's own token): it has no authority of its own.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import fastapi.routing
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from faster_core._version import __version__
from faster_core.exceptions import NotFoundError
from faster_core.plugins import PluginHost

__all__ = ["CONSOLE_PATH", "CONTENT_SECURITY_POLICY", "console_router", "describe_console"]

CONSOLE_PATH = "/-/console"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
_PARAM = re.compile(r"\{[^}]*\}")
# The auth API the page uses, by (method, path template under the auth prefix).
_AUTH_ENDPOINTS = {
    "login": ("POST", "/login"),
    "logout": ("POST", "/logout"),
    "me": ("GET", "/me"),
    "list_users": ("GET", "/admin/users"),
    "get_user": ("GET", "/admin/users/{}"),
    "set_roles": ("PUT", "/admin/users/{}/roles"),
    "ban": ("POST", "/admin/users/{}/ban"),
    "unban": ("POST", "/admin/users/{}/unban"),
    "audit": ("GET", "/admin/users/{}/audit"),
}


def _page_headers(cache: str) -> dict[str, str]:
    return {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": cache}


def _load_assets() -> tuple[bytes, dict[str, tuple[bytes, str]]]:
    folder = resources.files("faster_core") / "console_assets"
    page = (folder / "index.html").read_bytes()
    assets = {
        item.name: (item.read_bytes(), _MEDIA_TYPES[suffix])
        for item in folder.iterdir()
        if (suffix := "." + item.name.rpartition(".")[2]) in _MEDIA_TYPES
    }
    return page, assets


def console_router() -> APIRouter:
    """The page, its assets and the one JSON document the page needs beyond `/-/*`."""
    page, assets = _load_assets()
    router = APIRouter(prefix=CONSOLE_PATH, tags=["console"], include_in_schema=False)

    @router.get("")
    async def console_page() -> Response:
        return Response(
            page, media_type="text/html; charset=utf-8", headers=_page_headers("no-store")
        )

    @router.get("/assets/{name}")
    async def console_asset(name: str) -> Response:
        if name not in assets:
            raise NotFoundError("No such console asset.")
        body, media_type = assets[name]
        return Response(body, media_type=media_type, headers=_page_headers("no-cache"))

    @router.get("/api/overview")
    async def console_overview(request: Request) -> dict[str, Any]:
        return describe_console(request.app, request.scope.get("root_path", ""))

    return router


def _route_keys(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template with anonymous parameters) of every route of `app`."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = iter_contexts(app.routes) if iter_contexts else app.routes
    host: PluginHost | None = getattr(app.state, "faster", None)
    edge = host.edge_routes if host is not None else []
    return {
        (method, _PARAM.sub("{}", getattr(route, "path", None) or ""))
        for route in [*edge, *routes]
        for method in getattr(route, "methods", None) or ()
    }


def describe_console(app: FastAPI, root_path: str = "") -> dict[str, Any]:
    """What the page can show for `app`: which optional sections exist, and where they live."""
    host: PluginHost = app.state.faster
    keys = _route_keys(app)
    return {
        "title": host.settings.title,
        "env": str(host.settings.env),
        "version": __version__,
        "root_path": root_path,
        "health": "/health" if ("GET", "/health") in keys else None,
        "docs": app.docs_url if app.docs_url and ("GET", app.docs_url) in keys else None,
        "metrics": _metrics_section(host, keys),
        "auth": _auth_section(host, keys),
    }


def _metrics_section(host: PluginHost, keys: set[tuple[str, str]]) -> dict[str, Any] | None:
    settings = host.plugin_settings.get("observability")
    path = getattr(settings, "metrics_path", None)
    if not isinstance(path, str) or ("GET", path) not in keys:
        return None
    return {"path": path, "token_required": getattr(settings, "metrics_token", None) is not None}


def _auth_section(host: PluginHost, keys: set[tuple[str, str]]) -> dict[str, Any] | None:
    prefix = getattr(host.plugin_settings.get("auth"), "routes_prefix", None)
    if not isinstance(prefix, str) or ("POST", f"{prefix}/login") not in keys:
        return None
    endpoints = {
        name: (method, prefix + template) in keys
        for name, (method, template) in _AUTH_ENDPOINTS.items()
    }
    return {"prefix": prefix, "endpoints": endpoints}
