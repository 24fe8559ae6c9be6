"""The app the scale-out and reliability tests deploy: every installed plugin plus a few routes.

`create_scale_app()` is a factory (`faster run tests.integration.scale_app:create_scale_app
--factory --workers 4`): every uvicorn worker calls it and reads its settings from the
environment, exactly as a user's deployment does. The `scale` plugin adds what the tests need to
observe the suite from outside: which process answered (`X-Worker-Pid` on every response), a
rate-limited route, a cached read with tag invalidation on write, an event that every process
records when it receives it, and a route that needs a role.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_auth import AuthenticatedUser, require_roles
from faster_core import (
    FasterSettings,
    MiddlewareSpec,
    PluginInfo,
    Slot,
    create_app,
    hookimpl,
)
from faster_db import ConfigStore, Database, get_database
from faster_redis import Event, RedisHandle, RedisService, cached, rate_limit

__all__ = [
    "EVENT_TYPE",
    "ITEMS",
    "PID_HEADER",
    "RATE_LIMIT",
    "ScalePlugin",
    "WorkerPidMiddleware",
    "create_scale_app",
]

PID_HEADER = "x-worker-pid"
RATE_LIMIT = 20
"""Requests per minute and bucket that `POST /scale/limited` admits, across every process."""
EVENT_TYPE = "scale.ping"
ITEMS = "scale-items"
"""The configuration-store category holding the items (faster-db's own table: no migration)."""

ItemId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$")]


class ItemIn(BaseModel):
    value: str = Field(max_length=200)


class WorkerPidMiddleware:
    """Pure ASGI: every HTTP response says which process served it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pid = str(os.getpid()).encode()

        async def send_with_pid(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (PID_HEADER.encode(), pid)]
            await send(message)

        await self.app(scope, receive, send_with_pid)


def _bucket(request: Request) -> str | None:
    """Each test counts in its own bucket, so tests sharing a deployment do not interfere."""
    return request.headers.get("x-bucket") or "default"


@cached(ttl=300, key="scale-item:{item_id}", tags=["scale-item:{item_id}"])
async def load_item(item_id: str, database: Database) -> dict[str, Any]:
    async with database.session_scope(readonly=True) as session:
        value = await ConfigStore(session).get(ITEMS, item_id)
    return {"id": item_id, "value": value}


def _routes() -> APIRouter:
    router = APIRouter(prefix="/scale", tags=["scale"])

    @router.get("/whoami")
    async def whoami() -> dict[str, int]:
        return {"pid": os.getpid()}

    @router.post(
        "/limited",
        dependencies=[Depends(rate_limit(f"{RATE_LIMIT}/minute", name="scale", key=_bucket))],
    )
    async def limited() -> dict[str, int]:
        return {"pid": os.getpid()}

    @router.get("/items/{item_id}")
    async def read_item(item_id: ItemId, request: Request) -> dict[str, Any]:
        return await load_item(item_id, get_database(request))

    @router.get("/store/{item_id}")
    async def read_stored_item(item_id: ItemId, request: Request) -> dict[str, Any]:
        async with get_database(request).session_scope(readonly=True) as session:
            value = await ConfigStore(session).get(ITEMS, item_id)
        return {"id": item_id, "value": value}

    @router.put("/items/{item_id}")
    async def write_item(
        item_id: ItemId, body: ItemIn, request: Request, redis: RedisHandle
    ) -> dict[str, Any]:
        # Committed before the invalidation: a reader in between cannot cache the old value.
        async with get_database(request).session_scope() as session:
            await ConfigStore(session).set(ITEMS, item_id, body.value)
        await redis.cache.invalidate_tags(f"scale-item:{item_id}")
        return {"id": item_id, "value": body.value}

    @router.post("/events")
    async def emit(redis: RedisHandle) -> dict[str, str]:
        event = await redis.events.emit(EVENT_TYPE, {"from": os.getpid()})
        return {"id": event.id}

    @router.get("/events/{event_id}")
    async def receivers(event_id: ItemId, redis: RedisHandle) -> dict[str, list[int]]:
        members = await redis.execute(lambda client: client.smembers(_seen_key(redis, event_id)))
        return {"pids": sorted(int(member) for member in members)}

    @router.get("/editor")
    async def editor(
        user: Annotated[AuthenticatedUser, Depends(require_roles("editor"))],
    ) -> dict[str, str]:
        return {"sub": user.subject}

    return router


def _seen_key(service: RedisService, event_id: str) -> str:
    return service.key("scale-seen", event_id)


async def _record(service: RedisService, event_id: str) -> None:
    key = _seen_key(service, event_id)

    async def write(client: Any) -> None:
        await client.sadd(key, str(os.getpid()))
        await client.expire(key, 600)

    await service.execute(write)


class ScalePlugin:
    """The test routes, a pid header and an event handler, as a plugin of the suite."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("scale", "1.0.0", requires=("db", "redis", "auth"))

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        return [_routes()]

    @hookimpl
    def faster_middleware(self) -> list[MiddlewareSpec]:
        return [MiddlewareSpec(WorkerPidMiddleware, Slot.OUTERMOST)]

    @hookimpl(optionalhook=True)
    def faster_redis_event(self, event: Event, app: FastAPI) -> Awaitable[None] | None:
        if event.type != EVENT_TYPE:
            return None
        service: RedisService = app.state.faster_redis
        return _record(service, event.id)


def create_scale_app(settings: FasterSettings | None = None) -> FastAPI:
    """The default app (every installed plugin, configured from `FASTER_*`) plus `scale`."""
    return create_app(settings, plugins=[ScalePlugin()])
