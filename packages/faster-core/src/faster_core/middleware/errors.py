"""The last-resort error boundary: any unhandled exception becomes a generic 500 problem."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_core.problems import problem_response

__all__ = ["ServerErrorMiddleware"]

logger = logging.getLogger("faster_core.errors")
GENERIC_DETAIL = "The server failed to handle this request; quote the request id if you report it."


class ServerErrorMiddleware:
    """Turns an exception that escaped every handler into a 500 problem response.

    It sits inside the request-id and security-header middleware, so the 500 carries both. The
    exception is logged with its traceback; the client gets a generic detail. If the response
    had already started there is nothing left to answer, and the exception is re-raised.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
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
