"""RFC 9457 problem details: the one shape of every error response.

Bodies carry `type`, `title`, `status`, `detail`, `instance` and `request_id`; validation errors
add `errors`, one entry per field, never with the submitted value. Nothing from an exception's
own text reaches the client except the `detail` of a :class:`ProblemError`, which is written for
clients.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeAlias

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from faster_core.exceptions import ProblemError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "ExceptionHandler",
    "problem_exception_handlers",
    "problem_response",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
ABOUT_BLANK = "about:blank"
ExceptionHandler: TypeAlias = Callable[[Request, Any], Awaitable[Response]]
logger = logging.getLogger(__name__)
SENSITIVE_NAME = re.compile("password|passwd|token|secret|key", re.IGNORECASE)


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_CONTENT_TYPE


def problem_response(
    scope: Scope,
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str = ABOUT_BLANK,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    """A problem+json response for the request in `scope`."""
    status = int(status)  # an `HTTPStatus` would reach the server and the logs as an enum
    phrase = _phrase(status)
    body: dict[str, Any] = {
        "type": type_,
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
        "instance": scope.get("path", ""),
        "request_id": scope.get("state", {}).get("request_id"),
    }
    if extensions:
        body.update(extensions)
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _http_exception(request: Request, exc: HTTPException) -> Response:
    # A server error's text is never for the client.
    public = isinstance(exc.detail, str) and exc.status_code < 500
    detail = exc.detail if public else None
    return problem_response(request.scope, exc.status_code, detail=detail, headers=exc.headers)


async def _problem_error(request: Request, exc: ProblemError) -> Response:
    return problem_response(
        request.scope,
        exc.status,
        detail=exc.detail,
        title=exc.title,
        type_=f"urn:faster:problem:{exc.type_slug}",
        headers=exc.headers,
    )


def _field_error(error: Mapping[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in error.get("loc", ())]
    kind = str(error.get("type", "value_error"))
    message = str(error.get("msg", "invalid"))
    if any(SENSITIVE_NAME.search(part) for part in loc):
        # A custom validator's message may quote the value; for secrets say only what kind failed.
        message = f"invalid value ({kind})"
    return {"field": ".".join(loc), "message": message, "type": kind}


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [_field_error(error) for error in exc.errors()]
    return problem_response(
        request.scope,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        detail=f"{len(errors)} field(s) failed validation",
        type_="urn:faster:problem:validation",
        extensions={"errors": errors},
    )


def problem_exception_handlers() -> dict[type[Exception] | int, ExceptionHandler]:
    """The handlers the errors plugin installs: HTTP errors, validation and `ProblemError`."""
    return {
        HTTPException: _http_exception,
        RequestValidationError: _validation_error,
        ProblemError: _problem_error,
    }
