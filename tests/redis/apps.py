"""Apps the tests drive, in process and as uvicorn workers (`tests.redis.apps:<factory>`)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request

import faster_redis.plugin
from faster_core import create_app
from faster_core.settings import Environment, FasterSettings
from faster_redis import Limit, Redis, cache_response, rate_limit
from faster_redis.settings import FailurePolicy


class Counter:
    """How many times something really ran."""

    def __init__(self) -> None:
        self.calls = 0


def build_app(redis: dict[str, Any], *plugins: object, **core: Any) -> FastAPI:
    core = {"env": Environment.TEST, **core}
    settings = FasterSettings(_env_file=None, plugin_settings={"redis": redis}, **core)
    return create_app(settings, plugins=[faster_redis.plugin, *plugins], load_entrypoints=False)


def outage_app(redis: dict[str, Any]) -> FastAPI:
    """A cached route, a fail-open and a fail-closed limit, and a route on the raw client."""
    app = build_app(redis)
    computed = Counter()
    app.state.computed = computed

    @app.get("/cached/{item}")
    @cache_response(ttl=60)
    async def cached_item(item: str) -> dict[str, str]:
        computed.calls += 1
        return {"item": item}

    @app.get("/open", dependencies=[Depends(rate_limit("100000/minute", name="open"))])
    async def fail_open() -> dict[str, str]:
        return {"limit": "open"}

    login = rate_limit("100000/minute", name="login", login=True)

    @app.post("/login", dependencies=[Depends(login)])
    async def fail_closed() -> dict[str, str]:
        return {"limit": "closed"}

    @app.get("/raw")
    async def raw(redis: Redis, request: Request) -> dict[str, int]:
        # EXISTS, not DBSIZE: on a cluster DBSIZE counts one node's keys.
        return {"exists": await redis.exists(request.app.state.faster_redis.key("k"))}

    return app


def limited_app() -> FastAPI:
    """For the multi-process test: `/limited` allows 100 per minute per client, from env."""
    settings = FasterSettings(env=Environment.TEST)
    app = create_app(settings, plugins=[faster_redis.plugin], load_entrypoints=False)
    limit = Limit(100, 60, name="exact")

    @app.get("/limited", dependencies=[Depends(rate_limit(limit))])
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    return app


__all__ = ["Counter", "FailurePolicy", "build_app", "limited_app", "outage_app"]
