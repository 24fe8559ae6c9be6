"""Request ids: a well-formed incoming `X-Request-ID` is kept, otherwise one is made; every
response carries it. The same pass lets request observers (access logs, metrics) watch each
request without a layer of their own."""

from __future__ import annotations

import random
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core.middleware.observers import RequestObserver
from faster_core.middleware.security_headers import SecurityHeaders

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "current_request_id"]

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_WELL_FORMED = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_request_id: ContextVar[str | None] = ContextVar("faster_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this context, or `None` outside a request."""
    return _request_id.get()


class RequestIdMiddleware:
    """Sets `request.state.request_id` and the context's request id; adds `X-Request-ID`.

    Given `security`, it also adds those security headers (see `SecurityHeadersMiddleware`) in
    the same pass: every layer that rewrites the response start costs each request about a
    microsecond, and these two always go together in the `http` plugin. Given `observer`, it
    tells it about each request from the same pass, for the same reason.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        security: SecurityHeaders | None = None,
        observer: RequestObserver | None = None,
    ) -> None:
        self.app = app
        self.security = security
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _incoming_id(scope)
        # 128 random bits, not a secret: the random module's generator is reseeded in each
        # forked worker and costs a third of `secrets.token_hex` per request.
        request_id = raw.decode("ascii") if raw else random.randbytes(16).hex()  # noqa: S311
        scope.setdefault("state", {})["request_id"] = request_id
        security = self.security
        own = (_HEADER_KEY, request_id.encode("ascii"))
        added = (own, *security.for_scope(scope)) if security else (own,)
        token = _request_id.set(request_id)
        watch = self.observer.request_started(scope, request_id) if self.observer else None

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                # A new list: the app's may belong to a response object that is sent again.
                message["headers"] = (
                    security.added_to(headers, added) if security else [*headers, *added]
                )
                if watch is not None:
                    watch.response_started(message)
            elif watch is not None and not message.get("more_body", False):
                await send(message)
                watch.response_finished()
                return
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if watch is not None:
                watch.request_finished()
            _request_id.reset(token)


def _incoming_id(scope: Scope) -> bytes | None:
    for key, value in scope["headers"]:
        if key == _HEADER_KEY:
            return value if _WELL_FORMED.fullmatch(value) else None
    return None
