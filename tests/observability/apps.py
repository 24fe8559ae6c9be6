"""Demo routes exercising what the observability plugin must see, and app factories for
out-of-process servers."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
from collections.abc import Iterable
from typing import Any

import structlog
from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from pydantic import BaseModel

from faster_core import (
    FasterSettings,
    PluginInfo,
    ServiceUnavailableError,
    create_app,
    hookimpl,
)
from faster_observability import ObservabilityPlugin, capture_exception, set_user_id

logger = logging.getLogger("tests.observability.demo")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(**claims: Any) -> str:
    """A JWT-shaped token (the signature is random: nothing here verifies it)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "user-1", "jti": secrets.token_hex(8), **claims}).encode())
    return f"{header}.{payload}.{b64url(secrets.token_bytes(32))}"


class Login(BaseModel):
    username: str
    password: str
    refresh_token: str


class DemoRoutes:
    """Routes that log, fail, schedule background work and identify users."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("demo")

    @hookimpl
    def faster_routers(self) -> Iterable[APIRouter]:
        router = APIRouter()
        router.add_api_route("/items/{item_id}", item)
        router.add_api_route("/login", login, methods=["POST"])
        router.add_api_route("/refresh", refresh, methods=["POST"])
        router.add_api_route("/background", background)
        router.add_api_route("/unavailable", unavailable)
        router.add_api_route("/me", me)
        router.add_api_route("/report", report)
        router.add_api_route("/gate", gate)
        router.add_api_route("/pid", pid)
        return [router]


async def item(item_id: int, pause: float = 0.0) -> dict[str, int]:
    if pause:
        await asyncio.sleep(pause)  # lets concurrent requests interleave
    logger.info("item %s read", item_id)
    return {"item_id": item_id}


async def login(body: Login, request: Request) -> dict[str, str]:
    log = structlog.get_logger("tests.observability.demo.structured")
    log.info(
        "login attempt", user=body.username, password=body.password, headers=dict(request.headers)
    )
    logger.info("login for %s with password=%s", body.username, body.password)
    return {"user": body.username}


async def refresh(body: Login, request: Request) -> dict[str, str]:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    logger.warning("refreshing with token %s and refresh_token=%s", token, body.refresh_token)
    raise RuntimeError(f"refresh failed: token={token} password={body.password}")


async def background(tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(_background_job, "starlette")
    asyncio.get_running_loop().create_task(_background_job("asyncio"))
    return {"scheduled": "yes"}


async def _background_job(kind: str) -> None:
    await asyncio.sleep(0)
    logger.info("background job ran", extra={"kind": kind})


async def unavailable() -> None:
    raise ServiceUnavailableError("The catalogue is unavailable.", retry_after=7)


async def me(request: Request) -> dict[str, str]:
    set_user_id("user-42")
    logger.info("who am I")
    return {"user": "user-42"}


async def report() -> dict[str, str | None]:
    try:
        missing: dict[str, int] = {}
        missing["order"]
    except KeyError as exc:
        event_id = capture_exception(exc, order="o-1", api_key="k-" + "x" * 30)
    return {"event_id": event_id}


async def gate(request: Request) -> dict[str, str]:
    """Waits until the test sets `app.state.gate` (an `asyncio.Event`)."""
    await request.app.state.gate.wait()
    return {"gate": "passed"}


async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


def multiprocess_app() -> FastAPI:
    """The app a multi-worker uvicorn serves (`--factory`): settings from the environment."""
    return create_app(
        FasterSettings(_env_file=None),
        plugins=[ObservabilityPlugin(), DemoRoutes()],
        load_entrypoints=False,
    )
