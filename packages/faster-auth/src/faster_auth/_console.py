"""What the auth plugin enforces on a route (roles, permissions, tag policy, public), for
`GET /-/routes` and the developer console through the core's `faster_describe_route` hook.

The core already reports whether a route needs a bearer token; this adds what only faster-auth
can read: the roles and permissions its dependencies demand.
"""

from __future__ import annotations

import inspect
from typing import Any

from faster_core import PluginHost, hookimpl
from faster_core.introspection import route_dependencies

__all__ = ["faster_describe_route"]

NAME = "auth"
_ROLES = "require_roles.<locals>.dependency"
_PERMISSIONS = "require_permissions.<locals>.dependency"
_PUBLIC = "__faster_auth_public__"


def _needed(call: object) -> list[str]:
    needed = inspect.getclosurevars(call).nonlocals.get("needed")  # type: ignore[arg-type]
    return sorted(needed) if isinstance(needed, frozenset) else []


def _tag_roles(route: object, host: PluginHost) -> dict[str, list[str]]:
    policy = getattr(host.plugin_settings.get(NAME), "tag_roles", None) or {}
    tags = getattr(route, "tags", None) or []
    return {tag: sorted(policy[tag]) for tag in tags if tag in policy}


@hookimpl
def faster_describe_route(route: object, host: PluginHost) -> dict[str, Any] | None:
    """Roles (every one required), permissions, tag-policy roles (one of each tag's) and
    whether the route is marked public."""
    roles: set[str] = set()
    permissions: set[str] = set()
    for call in route_dependencies(route):
        qualname = getattr(call, "__qualname__", "")
        if qualname == _ROLES:
            roles.update(_needed(call))
        elif qualname == _PERMISSIONS:
            permissions.update(_needed(call))
    described: dict[str, Any] = {}
    if roles:
        described["roles"] = sorted(roles)
    if permissions:
        described["permissions"] = sorted(permissions)
    tag_roles = _tag_roles(route, host)
    if tag_roles:
        described["tag_roles"] = tag_roles
    if getattr(getattr(route, "endpoint", None), _PUBLIC, False):
        described["public"] = True
    return described or None
