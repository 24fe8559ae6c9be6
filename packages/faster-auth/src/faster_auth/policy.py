"""Route policies: roles by OpenAPI tag, and deny-by-default.

Tag policy (`FASTER_AUTH_TAG_ROLES='{"billing": ["finance", "admin"]}'`): a route tagged
`billing` admits only callers holding at least one of the tag's roles. A route with several
policy tags must satisfy every one of them: requirements add up, they are never merged into one
union of roles (the predecessor's escalation). A tag policy only ever adds a check; the admin
API keeps its own `admin` check in each handler whatever the tags say.

Deny-by-default (`FASTER_AUTH_DENY_BY_DEFAULT=true`): start-up fails, listing them, when routes
are neither protected (a `CurrentUser`, `require_roles`, `require_permissions` dependency, or a
tag policy) nor public (decorated with `@public`, or matching `FASTER_AUTH_PUBLIC_PATHS`, a
comma-separated list of glob patterns). The docs routes and faster-auth's own routes are
public by construction.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from faster_auth.dependencies import BearerUser, current_user
from faster_auth.exceptions import AuthConfigurationError, PermissionDeniedError

__all__ = [
    "apply_tag_policy",
    "is_protected",
    "is_public",
    "public",
    "refuse_unguarded_routes",
    "served_routes",
    "unguarded_routes",
]

F = TypeVar("F", bound=Callable[..., Any])

_PUBLIC = "__faster_auth_public__"
_TAG_GUARDED = "__faster_auth_tag_guarded__"


def public(endpoint: F) -> F:
    """Mark a route's endpoint as deliberately open to anonymous callers."""
    setattr(endpoint, _PUBLIC, True)
    return endpoint


def _requires_user(dependant: Dependant) -> bool:
    call = dependant.call
    if call is current_user or (isinstance(call, BearerUser) and call.required):
        return True
    return any(_requires_user(sub) for sub in dependant.dependencies)


def served_routes(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """Each route as the router serves it.

    FastAPI 0.16x includes routers lazily: an included route is served through an effective
    context holding its full path, its tags, the include's dependencies and the ASGI app that
    runs it. That context, not the router's own route object, is what a policy must inspect
    and guard.
    """
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            yield route
            continue
        for context in contexts():
            starlette_route = getattr(context, "starlette_route", None)
            yield starlette_route if starlette_route is not None else context


def is_protected(route: Any) -> bool:
    """Whether every request to `route` must carry a valid access token."""
    if getattr(route, _TAG_GUARDED, False):
        return True
    dependant = getattr(route, "dependant", None)
    return isinstance(dependant, Dependant) and _requires_user(dependant)


def is_public(route: Any, app: FastAPI, patterns: Iterable[str]) -> bool:
    endpoint = getattr(route, "endpoint", None)
    if getattr(endpoint, _PUBLIC, False):
        return True
    if getattr(endpoint, "__module__", "").startswith("faster_auth."):
        return True  # our own routes: sign-in, JWKS... each protected one checks for itself
    path = getattr(route, "path", "")
    docs = {app.docs_url, app.redoc_url, app.openapi_url, app.swagger_ui_oauth2_redirect_url}
    return path in docs or any(fnmatch.fnmatchcase(path, p) for p in patterns)


def unguarded_routes(app: FastAPI, public_patterns: Iterable[str]) -> list[str]:
    """`METHODS path` of every route that is neither protected nor public."""
    patterns = list(public_patterns)
    found: list[str] = []
    for route in served_routes(app.routes):
        if is_protected(route) or is_public(route, app, patterns):
            continue
        methods = ",".join(sorted(getattr(route, "methods", None) or ())) or "*"
        path = getattr(route, "path", repr(route))
        found.append(f"{methods} {path}" if not isinstance(route, Mount) else f"mount {path}")
    return found


def refuse_unguarded_routes(app: FastAPI, public_patterns: Iterable[str]) -> None:
    """Deny-by-default: raise `AuthConfigurationError` listing every unguarded route."""
    found = unguarded_routes(app, public_patterns)
    if found:
        raise AuthConfigurationError(
            "FASTER_AUTH_DENY_BY_DEFAULT: these routes are neither protected nor marked public "
            "(add a CurrentUser / require_roles / require_permissions dependency, decorate the "
            "endpoint with @public, or list it in FASTER_AUTH_PUBLIC_PATHS): " + "; ".join(found)
        )


class _TagGuard:
    """Runs in front of one route: authenticates and checks each policy tag's roles."""

    def __init__(self, app: ASGIApp, requirements: list[frozenset[str]]) -> None:
        self.app = app
        self.requirements = requirements

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            user = await current_user(Request(scope))
            if not all(user.roles & allowed for allowed in self.requirements):
                raise PermissionDeniedError("This action requires a role you do not have.")
        await self.app(scope, receive, send)


def apply_tag_policy(app: FastAPI, tag_roles: Mapping[str, Iterable[str]]) -> int:
    """Guard every route carrying a tag of `tag_roles`; returns how many routes were guarded."""
    policy = {tag: frozenset(roles) for tag, roles in tag_roles.items()}
    empty = sorted(tag for tag, roles in policy.items() if not roles)
    if empty:
        raise AuthConfigurationError(
            f"FASTER_AUTH_TAG_ROLES: tag(s) {', '.join(empty)} list no role (nobody could pass)"
        )
    guarded = 0
    for route in served_routes(app.routes):
        tags = getattr(route, "tags", None) or []
        requirements = [policy[str(tag)] for tag in tags if str(tag) in policy]
        if not requirements or getattr(route, "app", None) is None:
            continue
        if getattr(route, _TAG_GUARDED, False):
            continue
        route.app = _TagGuard(route.app, requirements)
        setattr(route, _TAG_GUARDED, True)
        guarded += 1
    return guarded
