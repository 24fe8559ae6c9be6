"""The `redis` plugin's hook implementations (entry point `redis` in the group `faster`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pluggy
import redis.exceptions
from fastapi import FastAPI, Request
from starlette.responses import Response

from faster_core import (
    Environment,
    HealthCheck,
    MiddlewareSpec,
    PluginHost,
    PluginInfo,
    PluginLifespan,
    Slot,
    hookimpl,
    problem_response,
)
from faster_redis import hookspecs
from faster_redis._console import faster_describe_route
from faster_redis._version import __version__
from faster_redis.connection import connect, safe_url
from faster_redis.context import STATE_KEY
from faster_redis.events import EventBridge
from faster_redis.health import redis_health_check
from faster_redis.middleware import RateLimitMiddleware, install_route_limits
from faster_redis.response_cache import ResponseCacheMiddleware
from faster_redis.service import RedisService
from faster_redis.settings import RedisSettings

__all__ = [
    "faster_add_hookspecs",
    "faster_describe_route",
    "faster_exception_handlers",
    "faster_health_checks",
    "faster_lifespan",
    "faster_middleware",
    "faster_observability_metrics",
    "faster_plugin_info",
]

NAME = "redis"
logger = logging.getLogger(__name__)


def _settings(host: PluginHost) -> RedisSettings:
    return host.settings_for(NAME, RedisSettings)


@hookimpl
def faster_plugin_info() -> PluginInfo:
    return PluginInfo(NAME, __version__, settings=RedisSettings)


@hookimpl
def faster_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def faster_lifespan(host: PluginHost) -> PluginLifespan:
    settings = _settings(host)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Mapping[str, Any]]:
        client = await connect(settings)
        service = RedisService(client, settings, settings.metrics, source=host.settings.title)
        logger.info("redis plugin connected to %s", safe_url(settings))
        if settings.memory and host.settings.env is Environment.PRODUCTION:
            logger.warning(
                "FASTER_REDIS_URL is memory:// in production: each worker has its own cache, "
                "rate-limit counters and locks"
            )
        ready_within = settings.connect_timeout + settings.socket_timeout
        bridge = None
        if host.hook.faster_redis_event.get_hookimpls():
            bridge = EventBridge(service, host, app)
            await bridge.start(ready_within=ready_within)
        if service.cache.local is not None:
            await service.cache.local.start(ready_within=ready_within)
        install_route_limits(app)
        try:
            yield {STATE_KEY: service}
        finally:
            if service.cache.local is not None:
                await service.cache.local.stop()
            if bridge is not None:
                await bridge.stop()
            await service.aclose()

    return lifespan


@hookimpl
def faster_health_checks(host: PluginHost) -> Iterable[HealthCheck]:
    return [redis_health_check(_settings(host))]


@hookimpl
def faster_middleware(host: PluginHost) -> Iterable[MiddlewareSpec]:
    settings = _settings(host)
    specs = []
    if settings.ratelimit_global:
        specs.append(
            MiddlewareSpec(RateLimitMiddleware, Slot.DEFAULT, {"limit": settings.ratelimit_global})
        )
    # The response cache also binds the service for `@cached` / `@locked` (one layer, not two).
    specs.append(MiddlewareSpec(ResponseCacheMiddleware, Slot.DEFAULT))
    return specs


async def _redis_unreachable(request: Request, exc: Exception) -> Response:
    # Raised by routes using the raw `Redis` client: an outage, never a 500.
    settings = request.app.state.faster.settings_for(NAME, RedisSettings)
    return problem_response(
        request.scope,
        503,
        detail="Redis is unavailable.",
        type_="urn:faster:problem:redis-unavailable",
        headers={"Retry-After": str(settings.retry_after)},
    )


@hookimpl
def faster_exception_handlers() -> Mapping[type[Exception] | int, Any]:
    return {
        redis.exceptions.ConnectionError: _redis_unreachable,
        redis.exceptions.TimeoutError: _redis_unreachable,
    }


@hookimpl(optionalhook=True)
def faster_observability_metrics(registry: Any, host: PluginHost) -> None:
    """Circuit state, cache hits/misses and rate-limit decisions on the app's registry."""
    _settings(host).metrics.bind(registry)
