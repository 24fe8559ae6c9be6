"""A small app on faster-core: a plugin with routes, a health check and a feature flag.

Run it from the repository root:

    hatch run demo:serve examples.hello:app

    curl http://127.0.0.1:8000/hello/ada
    curl http://127.0.0.1:8000/health
    FASTER_FLAGS__SHOUTING=true hatch run demo:serve examples.hello:app   # turns /shout on
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request

from faster_core import (
    CheckResult,
    HealthCheck,
    NotFoundError,
    PluginHost,
    PluginInfo,
    PluginSettings,
    create_app,
    hookimpl,
    require_flag,
)
from faster_core.lifespan import PluginLifespan


class GreeterSettings(PluginSettings):
    """Read from FASTER_GREETER_*."""

    greeting: str = "Hello"


class Greeter:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("greeter", "1.0.0", settings=GreeterSettings)

    @hookimpl
    def faster_lifespan(self, host: PluginHost) -> PluginLifespan:
        settings = host.settings_for("greeter", GreeterSettings)

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
            yield {"greeting": settings.greeting, "started_at": time.time()}

        return lifespan

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter(tags=["greeter"])

        @router.get("/hello/{name}")
        async def hello(name: str, request: Request) -> dict[str, str]:
            if name == "nobody":
                raise NotFoundError("There is nobody to greet.")
            return {"message": f"{request.state.greeting}, {name}!"}

        @router.get("/shout/{name}", dependencies=[Depends(require_flag("shouting"))])
        async def shout(name: str, request: Request) -> dict[str, str]:
            return {"message": f"{request.state.greeting}, {name}!".upper()}

        return [router]

    @hookimpl
    def faster_health_checks(self) -> list[HealthCheck]:
        async def uptime(app: FastAPI) -> CheckResult:
            return CheckResult(detail=f"up {time.time() - app.state.started_at:.0f}s")

        return [HealthCheck("greeter", uptime, critical=False, timeout=0.5)]


app = create_app(plugins=[Greeter()])
