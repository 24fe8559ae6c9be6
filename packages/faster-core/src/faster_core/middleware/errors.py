"""The last-resort error boundary: any unhandled exception becomes a generic 500 problem. The same
pass sends the headers added during the request (`faster_core.response_headers`)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core.problems import problem_response
from faster_core.response_headers import SCOPE_KEY

__all__ = ["ServerErrorMiddleware"]

logger = logging.getLogger("faster_core.errors")
GENERIC_DETAIL = "The server failed to handle this request; quote the request id if you report it."


class ServerErrorMiddleware:
    """Turns an exception that escaped every handler into a 500 problem response.

    It sits inside the request-id and security-header middleware, so the 500 carries both. The
    exception is logged with its traceback; the client gets a generic detail. If the response
    had already started there is nothing left to answer, and the exception is re-raised.

    It also appends the headers added during the request (`add_response_headers`) to the
    response start, in this pass because it is in every app and already watches the start.
    The 500 it renders itself is built afresh and carries none of them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        # Put in the scope before routing, so that a copy of the scope made on the way to the
        # route still shares the list.
        added: list[tuple[bytes, bytes]] = []
        scope[SCOPE_KEY] = added

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if added:
                    # A new list: the app's may belong to a response object that is sent again.
                    message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except HTTPException as exc:
            if started:
                raise
            await problem_response(scope, exc.status_code, headers=exc.headers)(
                scope, receive, send
            )
        except Exception:  # the outermost boundary of the app: reported here, answered with a 500
            if started:
                raise
            logger.exception(
                "unhandled error in %s %s",
                scope.get("method"),
                scope.get("path"),
                extra={"request_id": scope.get("state", {}).get("request_id")},
            )
            response = problem_response(
                scope,
                HTTPStatus.INTERNAL_SERVER_ERROR,
                detail=GENERIC_DETAIL,
            )
            await response(scope, receive, send)
