"""`GET /hello/{name}` and `GET /hello` (the guestbook)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from faster_core import ServiceUnavailableError
from faster_hello.guestbook import Guestbook

__all__ = ["hello_router"]


def _guestbook(request: Request) -> Guestbook:
    guestbook = getattr(request.state, "hello", None)
    if not isinstance(guestbook, Guestbook):
        raise ServiceUnavailableError("The hello plugin has not started.", retry_after=1)
    return guestbook


def hello_router() -> APIRouter:
    router = APIRouter(prefix="/hello", tags=["hello"])

    @router.get("")
    async def guestbook(request: Request) -> dict[str, Any]:
        """Who signed up since start-up (fed by faster-auth's events, when auth is enabled)."""
        book = _guestbook(request)
        return {"started_at": book.started_at, "guests": book.guests, "sign_ins": book.sign_ins}

    @router.get("/{name}")
    async def hello(name: str, request: Request) -> dict[str, str]:
        return {"message": f"{_guestbook(request).greeting}, {name}!"}

    return router
