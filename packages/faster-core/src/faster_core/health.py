"""Health: `/health/live` (no I/O), `/health/ready` (critical checks) and `/health` (every check).

Checks run concurrently, each under its own timeout: a hanging check reports failed when its
timeout runs out and never holds the endpoint longer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from faster_core.problems import problem_response

__all__ = [
    "CheckReport",
    "CheckResult",
    "HealthCheck",
    "HealthEndpointsMiddleware",
    "health_router",
    "run_checks",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a passing check may say: that it is degraded, and a short public detail."""

    degraded: bool = False
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """A named async check. It passes by returning (`None` or a `CheckResult`), fails by raising.

    `timeout` of `None` takes `FASTER_HEALTH_TIMEOUT`. A non-critical check's failure shows in
    `/health` as degraded and does not fail readiness.
    """

    name: str
    check: Callable[[FastAPI], Awaitable[CheckResult | None]]
    critical: bool = True
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class CheckReport:
    name: str
    status: Literal["pass", "fail"]
    critical: bool
    degraded: bool
    latency_ms: float
    detail: str | None = None


async def run_checks(
    app: FastAPI, checks: Sequence[HealthCheck], default_timeout: float
) -> list[CheckReport]:
    """Run `checks` concurrently; each report is in the order of `checks`."""
    return list(await asyncio.gather(*(_run_one(app, c, default_timeout) for c in checks)))


async def _run_one(app: FastAPI, check: HealthCheck, default_timeout: float) -> CheckReport:
    timeout = check.timeout if check.timeout is not None else default_timeout
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            result = await check.check(app) or CheckResult()
    except TimeoutError:
        return _failed(check, started, f"timed out after {timeout:g}s")
    except Exception as exc:  # a check may fail any way; reported as this check's failure
        logger.warning("health check %s failed", check.name, exc_info=exc)
        return _failed(check, started, f"failed: {type(exc).__name__}")
    return CheckReport(
        check.name, "pass", check.critical, result.degraded, _elapsed_ms(started), result.detail
    )


def _failed(check: HealthCheck, started: float, detail: str) -> CheckReport:
    return CheckReport(
        check.name, "fail", check.critical, not check.critical, _elapsed_ms(started), detail
    )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _verdict(request: Request, reports: list[CheckReport]) -> Response:
    body: dict[str, Any] = {"checks": [asdict(report) for report in reports]}
    if any(r.status == "fail" and r.critical for r in reports):
        failed = ", ".join(r.name for r in reports if r.status == "fail" and r.critical)
        return problem_response(
            request.scope,
            int(HTTPStatus.SERVICE_UNAVAILABLE),
            detail=f"Critical health checks failed: {failed}.",
            headers={"Retry-After": "5"},
            extensions={"status_summary": "fail", **body},
        )
    body["status"] = "degraded" if any(r.degraded for r in reports) else "pass"
    return JSONResponse(body)


def health_router(checks: Sequence[HealthCheck], default_timeout: float) -> APIRouter:
    """The three health endpoints over `checks`."""
    router = APIRouter(prefix="/health", tags=["health"])
    critical = [c for c in checks if c.critical]

    @router.get("/live", summary="The process is up (no I/O)")
    async def live() -> dict[str, str]:
        return {"status": "pass"}

    @router.get("/ready", summary="Every critical check passes")
    async def ready(request: Request) -> Response:
        return _verdict(request, await run_checks(request.app, critical, default_timeout))

    @router.get("", summary="Every check, with status and latency")
    async def health(request: Request) -> Response:
        return _verdict(request, await run_checks(request.app, checks, default_timeout))

    return router


class HealthEndpointsMiddleware:
    """Serves the health endpoints ahead of the router.

    Every route the router tries before the matching one costs a request 1-8 µs, so endpoints
    that every app has must not sit in front of the app's own routes. Here a request for one of
    `routes` is handed to that route directly (a dictionary look-up for every other request), and
    probes skip the rest of the stack: trusted hosts, the body limit and the app's middleware.
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = {getattr(route, "path", ""): route for route in routes}
        # What FastAPI's own middleware stack gives a route: the exit stack its handler expects.
        self.handlers = {
            path: AsyncExitStackMiddleware(r.handle) for path, r in self.routes.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route_path = _route_path(scope) if scope["type"] == "http" else ""
        route = self.routes.get(route_path)
        if route is None:
            await self.app(scope, receive, send)
            return
        match, child_scope = route.matches(scope)
        if match is not Match.FULL:
            allowed = ", ".join(sorted(getattr(route, "methods", None) or ()))
            response = problem_response(
                scope, HTTPStatus.METHOD_NOT_ALLOWED, headers={"Allow": allowed}
            )
            await response(scope, receive, send)
            return
        scope.update(child_scope)
        await self.handlers[route_path](scope, receive, send)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    return path[len(root_path) :] if root_path and path.startswith(root_path) else path
