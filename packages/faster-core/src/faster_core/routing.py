"""An index of the app's routes by first path segment, in front of FastAPI's router.

A router matches a request against its routes in order until one matches. FastAPI (since its
lazily included routers) matches an included router route by route on every request, so a route
the app adds after `create_app` was matched against every plugin route first: about 90 µs per
request with every plugin of the suite installed, more than the rest of the stack together.

The index keeps the router's semantics and skips that work. Each route is filed under the first
path segment it can match (`auth` for `/auth/login`, for every route of an included router), or
under every segment when that segment holds a parameter, when the route is a `Host`, or when its
kind or its `matches` is not one the index knows. A request runs through the router's own code
over the routes filed under its first segment, in the router's order; routes filed elsewhere
cannot match it. When none of them matches (a 404, or a trailing-slash redirect), the router
scans every route as before. The index is rebuilt when a route is added to the app or to any
router it includes, and it stands aside for routers it cannot read (low-priority routes, a
router-level middleware).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter, APIWebSocketRoute
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from faster_core.request_dependencies import hoist_request_dependencies

__all__ = ["RouteIndex", "index_routes"]

_ROUTES = attrgetter("routes")
_CHANGES = attrgetter("_routes_version")  # FastAPI's count of changes to a router's routes

_KNOWN_MATCHERS = frozenset(
    {
        Route.matches,
        APIRoute.matches,
        WebSocketRoute.matches,
        APIWebSocketRoute.matches,
        Mount.matches,
    }
)


def index_routes(app: FastAPI) -> None:
    """Put a `RouteIndex` in front of `app.router`, unless a router middleware wraps it."""
    router = app.router
    if router.middleware_stack == router.app:
        router.middleware_stack = RouteIndex(router)


class RouteIndex:
    """Match each request only against the routes that can match its first path segment."""

    def __init__(self, router: APIRouter) -> None:
        self._router = router
        self._scan_every_route: ASGIApp = router.app
        self._watched: tuple[APIRouter, ...] = ()
        """The app's router and every router it includes."""
        self._versioned: tuple[APIRouter, ...] = ()
        """Those of them keeping FastAPI's count of changes to their routes."""
        self._stamp: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
        """Per watched router, its number of routes; per versioned one, its count of changes."""
        self._by_segment: dict[str, APIRouter] = {}
        self._unfiled: APIRouter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._scan_every_route(scope, receive, send)
            return
        if self._is_stale():
            self._build()
        if self._unfiled is None:
            await self._scan_every_route(scope, receive, send)
            return
        segment = get_route_path(scope)[1:].partition("/")[0]
        view = self._by_segment.get(segment, self._unfiled)
        if "router" not in scope:
            scope["router"] = self._router
        await view.app(scope, receive, send)

    def _is_stale(self) -> bool:
        # Checked for every request, so the stamp is taken by `map` and `attrgetter` in C rather
        # than by a Python loop over the routers.
        watched = self._watched
        return not watched or self._stamp != (
            tuple(map(len, map(_ROUTES, watched))),
            tuple(map(_CHANGES, self._versioned)),
        )

    def _build(self) -> None:
        router = self._router
        watched = self._watched = tuple(_routers_under(router))
        versioned = self._versioned = tuple(r for r in watched if hasattr(r, "_routes_version"))
        self._stamp = (
            tuple(len(r.routes) for r in watched),
            tuple(r._routes_version for r in versioned),
        )
        hoist_request_dependencies(router)
        low_priority = getattr(router, "_iter_low_priority_routes", None)
        if low_priority is not None and next(iter(low_priority()), None) is not None:
            self._unfiled = None
            return
        filed = [(route, _first_segments(route)) for route in router.routes]
        named = {segment for _, segments in filed if segments is not None for segment in segments}
        self._by_segment = {
            segment: self._view(
                [route for route, segments in filed if segments is None or segment in segments]
            )
            for segment in named
        }
        self._unfiled = self._view([route for route, segments in filed if segments is None])

    def _view(self, routes: list[BaseRoute]) -> APIRouter:
        """The router itself over `routes`; what none of them matches goes to the full scan."""
        view = copy.copy(self._router)
        view.routes = routes
        view.redirect_slashes = False
        view.default = self._scan_every_route
        if hasattr(view, "_low_priority_routes"):
            view._low_priority_routes = []
        return view


def _routers_under(router: APIRouter) -> Iterator[APIRouter]:
    yield router
    for route in router.routes:
        included = getattr(route, "original_router", None)
        if isinstance(included, APIRouter):
            yield from _routers_under(included)


def _first_segments(route: BaseRoute) -> frozenset[str] | None:
    """The first path segments `route` can match, or None for any."""
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is not None:
        segments: set[str] = set()
        for context in contexts():
            found = _context_first_segments(context)
            if found is None:
                return None
            segments |= found
        return frozenset(segments)
    if type(route).matches not in _KNOWN_MATCHERS:
        return None
    segment = _first_static_segment(getattr(route, "path", None))
    return None if segment is None else frozenset({segment})


def _context_first_segments(context: Any) -> frozenset[str] | None:
    """The first segments of one route of a FastAPI included router."""
    if context.starlette_route is not None:
        return _first_segments(context.starlette_route)
    if not isinstance(context.original_route, APIRoute):
        return None
    if type(context.original_route).matches is not APIRoute.matches:
        return None
    segment = _first_static_segment(context.path)
    return None if segment is None else frozenset({segment})


def _first_static_segment(path: object) -> str | None:
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    segment = path[1:].partition("/")[0]
    return None if "{" in segment else segment
