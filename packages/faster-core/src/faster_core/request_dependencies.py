"""Request dependencies: called by the core before FastAPI solves a route's other dependencies.

FastAPI solves every `Depends` the same way, whatever the dependency does: a recursive
`solve_dependencies` call, a cache key, three callable classifications. That costs a request
about 70,000 instructions per dependency (14-17 µs of server CPU), more than checking a cached
token or a rate limit does. A dependency marked with `request_dependency` (an async callable
whose only parameter is the request, such as `CurrentUser`'s) that comes first among a route's
dependencies is called by the core instead, with the request, before FastAPI's handler runs;
the endpoint gets its value as before. The rest of the route is FastAPI's own handler, built by
FastAPI for the route without those dependencies.

What stays as FastAPI does it:

- the order: only the leading run of marked dependencies is taken, so each still runs before
  everything declared after it (and before the parameters are validated: a 401 still comes
  before a 422);
- `app.dependency_overrides`: while any override is set, requests take FastAPI's own handler,
  unchanged;
- the OpenAPI schema, security requirements included: it is built from the route as declared;
- everything else: a sync endpoint, a websocket route, a marked dependency nested in another,
  or a FastAPI whose routes are not built as this module expects, keeps FastAPI's handler.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from fastapi import routing
from fastapi.routing import APIRoute, APIRouter
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["hoist_request_dependencies", "request_dependency"]

_MARK = "__faster_request_dependency__"
_T = TypeVar("_T")
_values: ContextVar[dict[str, Any]] = ContextVar("faster_request_dependencies")


def request_dependency(dependency: _T) -> _T:
    """Mark `dependency` (an async callable taking only the request) as one the core may call
    before FastAPI's handler; returns it unchanged."""
    setattr(dependency, _MARK, True)
    return dependency


def hoist_request_dependencies(router: APIRouter) -> None:
    """Give each route of `router` whose dependencies start with request dependencies a handler
    that calls them first (see the module's documentation). Routes already done are skipped."""
    for target in _targets(router.routes):
        if not isinstance(target.app, _HoistedApp):
            _hoist(target)


def _targets(routes: list[Any]) -> Iterator[Any]:
    """Every HTTP route, directly in the app (`APIRoute`) or through an included router (its
    per-inclusion context, which holds the dependant and the app FastAPI serves it with)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                if isinstance(getattr(context, "original_route", None), APIRoute):
                    yield context


def _hoist(target: Any) -> None:
    dependant = getattr(target, "dependant", None)
    if dependant is None or target.app is None:
        return
    leading = []
    for sub in dependant.dependencies:
        if not _is_request_dependency(sub):
            break
        leading.append((sub.name, sub.call))
    endpoint = dependant.call
    if not leading or not inspect.iscoroutinefunction(endpoint):
        return
    handler = _fast_handler(target, dependant, len(leading), endpoint)
    if handler is not None:
        target.app = _HoistedApp(target.app, handler, leading, target.dependency_overrides_provider)


def _is_request_dependency(sub: Any) -> bool:
    return (
        getattr(sub.call, _MARK, False)
        and (sub.request_param_name or sub.http_connection_param_name) is not None
        and not sub.dependencies
        and not (sub.path_params or sub.query_params or sub.header_params)
        and not (sub.cookie_params or sub.body_params)
        and sub.websocket_param_name is None
        and sub.background_tasks_param_name is None
        and sub.response_param_name is None
        and sub.security_scopes_param_name is None
    )


def _fast_handler(
    target: Any, dependant: Any, taken: int, endpoint: Callable[..., Awaitable[Any]]
) -> ASGIApp | None:
    """FastAPI's app for `target` as if its first `taken` dependencies were not declared, their
    values coming from `_values`; None when this FastAPI builds routes some other way."""

    @functools.wraps(endpoint)
    async def with_request_dependencies(**values: Any) -> Any:
        return await endpoint(**values, **_values.get())

    fast = copy.copy(dependant)
    fast.dependencies = dependant.dependencies[taken:]
    fast.call = with_request_dependencies
    context_var = getattr(routing, "_effective_route_context_var", None)
    original_route = getattr(target, "original_route", target)
    wrap_body_limit = _body_limit_wrapper()
    if context_var is None or wrap_body_limit is None:
        return None
    target.dependant = fast
    token = context_var.set(None if original_route is target else target)
    try:
        handler = original_route.get_route_handler()
    finally:
        context_var.reset(token)
        target.dependant = dependant
    app: ASGIApp = wrap_body_limit(
        routing.request_response(handler), getattr(target, "max_body_size", None)
    )
    return app


def _body_limit_wrapper() -> Callable[[ASGIApp, int | None], ASGIApp] | None:
    try:
        from fastapi._body_limit import wrap_app_with_body_limit  # noqa: PLC0415
    except ImportError:  # a FastAPI without per-route body limits
        return None
    wrapper: Callable[[ASGIApp, int | None], ASGIApp] = wrap_app_with_body_limit
    return wrapper


class _HoistedApp:
    """Calls the request dependencies, then FastAPI's handler for the rest of the route."""

    def __init__(
        self,
        original: ASGIApp,
        fast: ASGIApp,
        leading: list[tuple[str | None, Callable[[Request], Awaitable[Any]]]],
        overrides_provider: Any,
    ) -> None:
        self.original = original
        self.fast = fast
        self.leading = leading
        self.overrides_provider = overrides_provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self.overrides_provider
        if provider is not None and getattr(provider, "dependency_overrides", None):
            await self.original(scope, receive, send)
            return
        request = Request(scope, receive, send)
        values: dict[str, Any] = {}
        for name, dependency in self.leading:
            value = await dependency(request)
            if name is not None:
                values[name] = value
        token = _values.set(values)
        try:
            await self.fast(scope, receive, send)
        finally:
            _values.reset(token)
