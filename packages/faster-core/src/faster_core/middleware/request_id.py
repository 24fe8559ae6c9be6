"""Request ids: a well-formed incoming `X-Request-ID` is kept, otherwise one is made; every
response carries it."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "current_request_id"]

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_WELL_FORMED = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_request_id: ContextVar[str | None] = ContextVar("faster_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this context, or `None` outside a request."""
    return _request_id.get()


class RequestIdMiddleware:
    """Sets `request.state.request_id` and the context's request id; adds `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _incoming_id(scope)
        request_id = raw.decode("ascii") if raw else secrets.token_hex(16)
        encoded = request_id.encode("ascii")
        scope.setdefault("state", {})["request_id"] = request_id
        token = _request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A new list: the app's may belong to a response object that is sent again.
                message["headers"] = [*message.get("headers", ()), (_HEADER_KEY, encoded)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


def _incoming_id(scope: Scope) -> bytes | None:
    for key, value in scope["headers"]:
        if key == _HEADER_KEY:
            return value if _WELL_FORMED.fullmatch(value) else None
    return None
