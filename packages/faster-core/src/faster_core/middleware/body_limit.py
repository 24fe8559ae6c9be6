"""A request body size limit: 413 before the app reads more than the limit."""

from __future__ import annotations

from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core.problems import problem_response

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    """Refuses bodies over `max_body_size` bytes.

    A declared `Content-Length` over the limit is refused before the app runs. A chunked body is
    counted as it is read; crossing the limit raises a 413 `HTTPException` inside the app, which
    the errors plugin renders. The server enforces `Content-Length` framing, so a body with a
    declared length needs no counting.
    """

    def __init__(self, app: ASGIApp, *, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked = _framing(scope)
        if length is not None and length > self.max_body_size:
            await self._too_large(scope)(scope, receive, send)
            return
        if chunked and length is None:
            receive = self._counting(receive)
        await self.app(scope, receive, send)

    def _too_large(self, scope: Scope) -> Response:
        return problem_response(
            scope,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            detail=f"The request body exceeds {self.max_body_size} bytes.",
        )

    def _counting(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_size

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        detail=f"The request body exceeds {limit} bytes.",
                    )
            return message

        return counting_receive


def _framing(scope: Scope) -> tuple[int | None, bool]:
    length: int | None = None
    chunked = False
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif key == b"transfer-encoding":
            chunked = True
    return length, chunked
