"""`@rate_limited` routes: limits checked in pure ASGI around the route, before FastAPI resolves
its dependencies (faster_redis/middleware.py `RouteRateLimit`, ratelimit.py `rate_limited`)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from faster_core.testing import client_for
from faster_redis import Algorithm, Limit, rate_limited
from faster_redis.middleware import RouteRateLimit
from faster_redis.testing import RedisServer, rate_limits
from tests.redis.apps import Counter, build_app

pytestmark = pytest.mark.anyio


def decorated(redis: dict[str, Any], limit: Limit | str, **options: Any) -> FastAPI:
    app = build_app(redis)

    @app.get("/r")
    @rate_limited(limit, **options)
    async def route() -> dict[str, bool]:
        return {"ok": True}

    return app


async def statuses(client: httpx.AsyncClient, n: int, path: str = "/r") -> list[int]:
    return [(await client.get(path)).status_code for _ in range(n)]


@pytest.mark.parametrize("algorithm", list(Algorithm))
async def test_allows_exactly_the_limit(backend: dict[str, Any], algorithm: Algorithm) -> None:
    app = decorated(backend, Limit(5, 60, algorithm=algorithm))
    async with client_for(app) as client:
        codes = await statuses(client, 8)
    assert codes == [200] * 5 + [429] * 3


async def test_concurrent_requests_allow_exactly_the_limit(backend: dict[str, Any]) -> None:
    app = decorated(backend, "50/minute")
    async with client_for(app) as client:
        responses = await asyncio.gather(*(client.get("/r") for _ in range(200)))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 50
    assert codes.count(429) == 150


async def test_refusal_comes_before_dependencies_as_a_problem(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    resolved = Counter()

    async def expensive() -> None:
        resolved.calls += 1

    @app.get("/r", dependencies=[Depends(expensive)])
    @rate_limited("2/minute", name="search")
    async def route() -> dict[str, bool]:
        return {"ok": True}

    async with client_for(app) as client:
        ok = await client.get("/r")
        await client.get("/r")
        refused = await client.get("/r")
    assert resolved.calls == 2
    assert ok.headers["ratelimit-policy"] == '"search";q=2;w=60'
    assert ok.headers["ratelimit"].startswith('"search";r=1;t=')
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit"].startswith('"search";r=0;t=')
    assert refused.json()["type"] == "urn:faster:problem:rate-limited"


async def test_headers_reach_a_returned_response(backend: dict[str, Any]) -> None:
    app = build_app(backend)

    @app.get("/r")
    @rate_limited("3/minute")
    async def route() -> JSONResponse:
        return JSONResponse({"ok": True}, headers={"x-own": "kept"})

    async with client_for(app) as client:
        response = await client.get("/r")
    assert response.headers["x-own"] == "kept"
    # Named after the route's path template by default.
    assert response.headers["ratelimit-policy"] == '"/r";q=3;w=60'


async def test_stacked_limits_the_tightest_decides(backend: dict[str, Any]) -> None:
    app = build_app(backend)

    @app.get("/r")
    @rate_limited("10/minute", name="minute")
    @rate_limited("2/10s", name="burst")
    async def route() -> dict[str, bool]:
        return {"ok": True}

    async with client_for(app) as client:
        first = await client.get("/r")
        codes = await statuses(client, 2)
    assert first.headers["ratelimit-policy"] == '"burst";q=2;w=10'
    assert codes == [200, 429]


async def test_test_helpers_disable_and_override_limits(backend: dict[str, Any]) -> None:
    app = decorated(backend, "1/minute", name="tight")
    async with client_for(app) as client:
        with rate_limits(app).disabled():
            assert await statuses(client, 3) == [200, 200, 200]
        with rate_limits(app).override("tight", "2/minute"):
            assert await statuses(client, 3) == [200, 200, 429]
        assert await statuses(client, 1) == [429]


async def test_each_start_wraps_the_route_once(redis_test_settings: dict[str, Any]) -> None:
    # A real server: its counters outlive the app's lifespan (memory:// starts empty each time).
    app = decorated(redis_test_settings, "3/minute")
    async with client_for(app) as client:
        assert await statuses(client, 2) == [200, 200]
    async with client_for(app) as client:
        assert await statuses(client, 2) == [200, 429]
    wrapped = [r for r in app.routes if isinstance(getattr(r, "app", None), RouteRateLimit)]
    assert len(wrapped) == 1
    assert not isinstance(wrapped[0].app.app, RouteRateLimit)  # type: ignore[attr-defined]


async def test_outage_fails_open_for_general_and_closed_for_login(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app(fault_settings)

    @app.get("/general")
    @rate_limited("5/minute")
    async def general() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/login")
    @rate_limited("5/minute", login=True)
    async def login() -> dict[str, bool]:
        return {"ok": True}

    async with client_for(app) as client:
        with redis_fault_server.down():
            general_codes = [(await client.get("/general")).status_code for _ in range(10)]
            refused = await client.post("/login")
    assert general_codes == [200] * 10
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.headers["content-type"] == "application/problem+json"
