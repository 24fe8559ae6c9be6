"""Rate limits: server-side scripts, the three algorithms, keys, 429 problems with RateLimit
headers, NOSCRIPT, the failure policy, the test helpers, and `Depends(rate_limit(...))` called by
the core ahead of FastAPI's handler (faster_redis/ratelimit.py, middleware.py, client_ip.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from faster_core.testing import client_for
from faster_redis import Algorithm, Limit, by_user, rate_limit, rate_limited
from faster_redis.testing import RedisServer, rate_limits
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio


def limited(redis: dict[str, Any], limit: Limit | str, **options: Any) -> FastAPI:
    app = build_app(redis)

    @app.get("/r", dependencies=[Depends(rate_limit(limit, **options))])
    async def route() -> dict[str, bool]:
        return {"ok": True}

    return app


async def statuses(client: httpx.AsyncClient, n: int, **kwargs: Any) -> list[int]:
    return [(await client.get("/r", **kwargs)).status_code for _ in range(n)]


@pytest.mark.parametrize("algorithm", list(Algorithm))
async def test_allows_exactly_the_limit(backend: dict[str, Any], algorithm: Algorithm) -> None:
    app = limited(backend, Limit(5, 60, algorithm=algorithm))
    async with client_for(app) as client:
        codes = await statuses(client, 8)
    assert codes == [200] * 5 + [429] * 3


async def test_concurrent_requests_allow_exactly_the_limit(backend: dict[str, Any]) -> None:
    app = limited(backend, "50/minute")
    async with client_for(app) as client:
        responses = await asyncio.gather(*(client.get("/r") for _ in range(200)))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 50
    assert codes.count(429) == 150


async def test_refusal_is_a_problem_with_retry_after_and_ratelimit_headers(
    backend: dict[str, Any],
) -> None:
    app = limited(backend, "2/minute", name="search")
    async with client_for(app) as client:
        ok = await client.get("/r")
        await client.get("/r")
        refused = await client.get("/r")
    assert ok.headers["ratelimit-policy"] == '"search";q=2;w=60'
    assert ok.headers["ratelimit"].startswith('"search";r=1;t=')
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit"].startswith('"search";r=0;t=')
    body = refused.json()
    assert body["status"] == 429
    assert body["type"] == "urn:faster:problem:rate-limited"


async def test_window_reopens_after_the_period(backend: dict[str, Any]) -> None:
    app = limited(backend, Limit(2, 1, algorithm=Algorithm.SLIDING_WINDOW))
    async with client_for(app) as client:
        assert await statuses(client, 3) == [200, 200, 429]
        await asyncio.sleep(1.05)
        assert await statuses(client, 1) == [200]


async def test_rotating_forwarded_for_from_an_untrusted_peer_is_capped(
    backend: dict[str, Any],
) -> None:
    app = limited(backend, "3/minute")
    async with client_for(app) as client:
        codes = [
            (await client.get("/r", headers={"x-forwarded-for": f"203.0.113.{i}"})).status_code
            for i in range(6)
        ]
    assert codes == [200] * 3 + [429] * 3


async def test_forwarded_for_from_a_trusted_proxy_identifies_clients(
    backend: dict[str, Any],
) -> None:
    # httpx's ASGI transport connects from 127.0.0.1.
    app = limited({**backend, "trusted_proxies": ["127.0.0.1"]}, "1/minute")
    async with client_for(app) as client:
        first = await client.get("/r", headers={"x-forwarded-for": "203.0.113.1"})
        second = await client.get("/r", headers={"x-forwarded-for": "203.0.113.2"})
        spoofed = await client.get("/r", headers={"x-forwarded-for": "1.2.3.4, 203.0.113.1"})
    assert [first.status_code, second.status_code, spoofed.status_code] == [200, 200, 429]


async def test_limits_by_user_and_custom_key(backend: dict[str, Any]) -> None:
    app = build_app(backend)

    def tenant(request: Request) -> str | None:
        return request.headers.get("x-tenant")

    class User:
        def __init__(self, id: str) -> None:
            self.id = id

    async def sign_in(request: Request) -> None:
        request.state.user = User(request.headers["x-user"])

    @app.get("/user", dependencies=[Depends(sign_in), Depends(rate_limit("1/minute", key=by_user))])
    async def per_user() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/tenant", dependencies=[Depends(rate_limit("1/minute", key=tenant))])
    async def per_tenant() -> dict[str, bool]:
        return {"ok": True}

    async with client_for(app) as client:
        users = [(await client.get("/user", headers={"x-user": u})).status_code for u in "aab"]
        tenants = [
            (await client.get("/tenant", headers={"x-tenant": t})).status_code for t in "xxy"
        ]
        exempt = [(await client.get("/tenant")).status_code for _ in range(3)]
    assert users == [200, 429, 200]
    assert tenants == [200, 429, 200]
    assert exempt == [200, 200, 200]


async def test_by_user_knows_a_faster_auth_subject() -> None:
    app = build_app({"url": "memory://"})

    class AuthenticatedUser:  # faster-auth's caller: `subject`, no `id`
        def __init__(self, subject: str) -> None:
            self.subject = subject

    async def sign_in(request: Request) -> None:
        request.scope["user"] = AuthenticatedUser(request.headers["x-user"])

    @app.get("/user", dependencies=[Depends(sign_in), Depends(rate_limit("1/minute", key=by_user))])
    async def per_user() -> dict[str, bool]:
        return {"ok": True}

    async with client_for(app) as client:
        users = [
            (await client.get("/user", headers={"x-user": u, "x-forwarded-for": "10.0.0.1"}))
            for u in "aab"
        ]
    assert [response.status_code for response in users] == [200, 429, 200]


async def test_global_limit_runs_before_routing(backend: dict[str, Any]) -> None:
    app = build_app({**backend, "ratelimit_global": "3/minute"})
    async with client_for(app) as client:
        codes = [(await client.get("/nowhere")).status_code for _ in range(3)]
        refused = await client.get("/nowhere")
        probe = await client.get("/health/live")
    assert codes == [404, 404, 404]
    assert refused.status_code == 429
    assert probe.status_code == 200  # probes are served ahead of the app's middleware
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["ratelimit-policy"] == '"global";q=3;w=60'
    assert "retry-after" in refused.headers


async def test_scripts_survive_a_script_flush(backend: dict[str, Any]) -> None:
    app = limited(backend, "3/minute")
    async with client_for(app) as client:
        assert await statuses(client, 1) == [200]
        await app.state.faster_redis.client.script_flush()
        assert await statuses(client, 3) == [200, 200, 429]


async def test_test_helpers_disable_and_override_limits(backend: dict[str, Any]) -> None:
    app = limited(backend, "1/minute", name="tight")
    async with client_for(app) as client:
        with rate_limits(app).disabled():
            assert await statuses(client, 3) == [200, 200, 200]
        with rate_limits(app).override("tight", "2/minute"):
            assert await statuses(client, 3) == [200, 200, 429]
        assert await statuses(client, 1) == [429]


async def test_disabled_by_setting(backend: dict[str, Any]) -> None:
    app = limited({**backend, "ratelimit_enabled": False}, "1/minute")
    async with client_for(app) as client:
        assert await statuses(client, 3) == [200, 200, 200]


async def test_outage_fails_open_for_general_and_closed_for_login(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app(fault_settings)

    @app.get("/general", dependencies=[Depends(rate_limit("5/minute"))])
    async def general() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/login", dependencies=[Depends(rate_limit("5/minute", login=True))])
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
    assert app.state.faster_redis.metrics.counts["ratelimit", "unavailable_open"] == 10


async def _ok() -> dict[str, bool]:
    return {"ok": True}


@pytest.fixture
def solved_by_fastapi(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every callable FastAPI's `solve_dependencies` solves (endpoints and dependencies)."""
    import fastapi.dependencies.utils
    import fastapi.routing

    solved: list[object] = []
    solve = fastapi.dependencies.utils.solve_dependencies

    async def spy(**kwargs: Any) -> Any:
        solved.append(kwargs["dependant"].call)
        return await solve(**kwargs)

    monkeypatch.setattr(fastapi.dependencies.utils, "solve_dependencies", spy)
    monkeypatch.setattr(fastapi.routing, "solve_dependencies", spy)
    return solved


def _comparable(response: httpx.Response, name: str) -> dict[str, Any]:
    """What a client of a limited route sees, with the limit's name as `NAME` and the seconds
    to the window's reset (in the headers and the detail) left out."""
    state, _, reset = response.headers.get("ratelimit", "").rpartition(";t=")
    body = response.json()
    if response.status_code != 200:
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert body["detail"].startswith("Rate limit exceeded; retry in ")
        body = {k: v for k, v in body.items() if k not in {"instance", "request_id", "detail"}}
    assert reset == "" or 0 <= int(reset) <= 60
    return {
        "status": response.status_code,
        "type": response.headers["content-type"],
        "policy": [p.replace(name, "NAME") for p in response.headers.get_list("ratelimit-policy")],
        "state": state.replace(name, "NAME"),
        "body": body,
    }


async def test_a_leading_limit_is_checked_before_fastapis_handler_with_the_same_answers(
    backend: dict[str, Any], solved_by_fastapi: list[object]
) -> None:
    app = build_app(backend)
    limits = {name: rate_limit("2/minute", name=name) for name in ("core", "fastapi")}
    for name, limit in limits.items():
        app.add_api_route(f"/{name}", _ok, dependencies=[Depends(limit)])

    async with client_for(app) as client:
        hoisted = [_comparable(await client.get("/core"), "core") for _ in range(3)]
        # Any override makes FastAPI's own handler solve every dependency.
        app.dependency_overrides[_ok] = _ok
        through_fastapi = [_comparable(await client.get("/fastapi"), "fastapi") for _ in range(3)]

    assert limits["core"] not in solved_by_fastapi
    assert limits["fastapi"] in solved_by_fastapi
    assert [answer["status"] for answer in hoisted] == [200, 200, 429]
    assert hoisted[0]["policy"] == ['"NAME";q=2;w=60']
    assert hoisted[0]["state"] == '"NAME";r=1'
    assert hoisted[2]["body"]["type"] == "urn:faster:problem:rate-limited"
    assert through_fastapi == hoisted


async def test_router_limits_lead_and_a_limit_after_another_dependency_is_fastapis(
    redis_test_settings: dict[str, Any], solved_by_fastapi: list[object]
) -> None:
    app = build_app(redis_test_settings)
    journal: list[str] = []

    async def audited(request: Request) -> None:
        journal.append(request.url.path)

    by_router, by_inclusion, after_audit = (
        rate_limit("1/minute", name=name) for name in ("router", "inclusion", "after-audit")
    )
    router = APIRouter(prefix="/router", dependencies=[Depends(by_router)])
    router.add_api_route("/r", _ok, dependencies=[Depends(audited)])
    app.include_router(router)
    included = APIRouter()
    included.add_api_route("/r", _ok)
    app.include_router(included, prefix="/inclusion", dependencies=[Depends(by_inclusion)])
    audited_first = APIRouter(prefix="/after-audit", dependencies=[Depends(audited)])
    audited_first.add_api_route("/r", _ok, dependencies=[Depends(after_audit)])
    app.include_router(audited_first)

    async with client_for(app) as client:
        answers = {
            prefix: [await client.get(f"/{prefix}/r") for _ in range(2)]
            for prefix in ("router", "inclusion", "after-audit")
        }

    for prefix, (first, second) in answers.items():
        assert (first.status_code, second.status_code) == (200, 429)
        assert first.headers["ratelimit-policy"] == f'"{prefix}";q=1;w=60'
        assert second.headers["ratelimit"].startswith(f'"{prefix}";r=0;t=')
    assert by_router not in solved_by_fastapi
    assert by_inclusion not in solved_by_fastapi
    assert after_audit in solved_by_fastapi
    # The router's limit refused the second request before the route's own dependency ran.
    assert journal == ["/router/r", "/after-audit/r", "/after-audit/r"]


@pytest.mark.parametrize("handler", ["core", "fastapi"])
async def test_stacked_limits_send_the_last_ones_headers_and_a_refusal_only_its_own(
    redis_test_settings: dict[str, Any], handler: str
) -> None:
    app = build_app(redis_test_settings)
    stacked = [Depends(rate_limit("5/minute", name="minute")), Depends(rate_limit("1/10s"))]
    app.add_api_route("/r", _ok, dependencies=stacked)

    async with client_for(app) as client:
        if handler == "fastapi":
            app.dependency_overrides[_ok] = _ok
        admitted = await client.get("/r")
        refused = await client.get("/r")

    assert admitted.headers.get_list("ratelimit-policy") == ['"/r";q=1;w=10']
    assert len(admitted.headers.get_list("ratelimit")) == 1
    assert refused.status_code == 429
    assert refused.headers.get_list("ratelimit-policy") == ['"/r";q=1;w=10']
    assert len(refused.headers.get_list("ratelimit")) == 1


@pytest.mark.parametrize("handler", ["core", "fastapi"])
async def test_responses_after_the_check_carry_the_headers_as_with_rate_limited(
    redis_test_settings: dict[str, Any], handler: str
) -> None:
    app = build_app(redis_test_settings)
    for name in ("returned", "conflict", "crash"):
        limit = f"{name}-{handler}"  # one counter for both forms: the second sees r=98
        app.add_api_route(
            f"/dependency/{name}",
            _misbehaving(name),
            dependencies=[Depends(rate_limit("100/minute", name=limit))],
        )
        app.add_api_route(
            f"/decorator/{name}", rate_limited("100/minute", name=limit)(_misbehaving(name))
        )

    async with client_for(app) as client:
        if handler == "fastapi":
            app.dependency_overrides[_ok] = _ok
        answers = {
            (form, name): await client.get(f"/{form}/{name}")
            for form in ("dependency", "decorator")
            for name in ("returned", "conflict", "crash")
        }

    for name, status in {"returned": 200, "conflict": 409, "crash": 500}.items():
        dependency, decorator = answers["dependency", name], answers["decorator", name]
        assert dependency.status_code == decorator.status_code == status
        assert ("ratelimit" in dependency.headers) == ("ratelimit" in decorator.headers)
        assert dependency.headers.get("ratelimit-policy") == decorator.headers.get(
            "ratelimit-policy"
        )
    assert answers["dependency", "returned"].headers["x-own"] == "kept"
    assert answers["dependency", "conflict"].headers["ratelimit-policy"] == (
        f'"conflict-{handler}";q=100;w=60'
    )
    assert "ratelimit" not in answers["dependency", "crash"].headers


def _misbehaving(name: str) -> Callable[[], Awaitable[Any]]:
    """A fresh endpoint (`@rate_limited` marks the function itself) that returns its own
    response, raises an HTTP error or crashes."""

    async def returned() -> JSONResponse:
        return JSONResponse({"ok": True}, headers={"x-own": "kept"})

    async def conflict() -> None:
        raise HTTPException(409, "taken")

    async def crash() -> None:
        raise RuntimeError("boom")

    endpoints: dict[str, Callable[[], Awaitable[Any]]] = {
        "returned": returned,
        "conflict": conflict,
        "crash": crash,
    }
    return endpoints[name]
