"""What the redis plugin enforces on a route (rate limits, the response cache), for
`GET /-/routes` and the developer console through the core's `faster_describe_route` hook."""

from __future__ import annotations

import inspect
from typing import Any

from faster_core import PluginHost, hookimpl
from faster_core.introspection import route_dependencies
from faster_redis.ratelimit import Limit
from faster_redis.response_cache import MARK, ResponsePolicy

__all__ = ["faster_describe_route"]

NAME = "redis"


def _limit_text(limit: Limit) -> str:
    text = f"{limit.limit}/{limit.period:g}s"
    return f"{text} ({limit.name})" if limit.name else text


def _route_limits(route: object) -> list[Limit]:
    limits = []
    for call in route_dependencies(route):
        if getattr(call, "__qualname__", "") != "rate_limit.<locals>.enforce_rate_limit":
            continue
        resolved = inspect.getclosurevars(call).nonlocals.get("resolved")
        if isinstance(resolved, Limit):
            limits.append(resolved)
    return limits


def _global_limit(route: object, host: PluginHost) -> str | None:
    # The global limit runs in middleware after the health endpoints, so it never counts them.
    spec = getattr(host.plugin_settings.get(NAME), "ratelimit_global", None)
    if not spec or any(route is edge for edge in host.edge_routes):
        return None
    return f"{_limit_text(Limit.parse(spec))} (global)"


def _cache(route: object, host: PluginHost) -> dict[str, Any] | None:
    policy = getattr(getattr(route, "endpoint", None), MARK, None)
    if not isinstance(policy, ResponsePolicy):
        return None
    default_ttl = getattr(host.plugin_settings.get(NAME), "cache_ttl", None)
    return {
        "ttl": policy.ttl if policy.ttl is not None else default_ttl,
        "per_user": policy.per_user,
        "tags": list(policy.tags),
        "vary": list(policy.vary),
    }


@hookimpl
def faster_describe_route(route: object, host: PluginHost) -> dict[str, Any] | None:
    """The route's rate limits (its own, then the global one) and its response cache."""
    limits = [_limit_text(limit) for limit in _route_limits(route)]
    global_limit = _global_limit(route, host)
    if global_limit:
        limits.append(global_limit)
    described: dict[str, Any] = {}
    if limits:
        described["rate_limit"] = ", ".join(limits)
    cache = _cache(route, host)
    if cache:
        described["cache"] = cache
    return described or None
