"""Response headers added from inside a request, without a FastAPI `Response` object.

A dependency that lets a request through may still have something to say on the response (a
rate limit's `RateLimit` fields). FastAPI's way is a `Response` parameter, which keeps the
dependency from being a request dependency (`request_dependencies.py`), and whose headers are
dropped when the endpoint returns a response of its own or raises. Instead, the core's error layer
(`ServerErrorMiddleware`, in every app `create_app` builds) puts an empty list in the scope of
each HTTP request before routing, and appends whatever was added to it to the response start:
the endpoint's response, a `Response` it returns, a streaming response, and the problem an
exception handler renders for an error raised after the headers were added. The last-resort
500 is built afresh and carries none of them, as it carries nothing else the app set.

The list is put in the scope before routing so that a copy of the scope made on the way to the
route (a middleware's `dict(scope)`) still shares it.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import HTTPConnection
from starlette.types import Scope

from faster_core.exceptions import ConfigurationError

__all__ = ["SCOPE_KEY", "add_response_headers", "added_response_headers"]

SCOPE_KEY = "faster.response_headers"


def added_response_headers(request_or_scope: HTTPConnection | Scope) -> list[tuple[bytes, bytes]]:
    """The headers added so far to this request's response, as the live list the core sends:
    edit it to replace or drop a header added before.

    Raises:
        ConfigurationError: not during an HTTP request of an app built by `create_app`.
    """
    scope = (
        request_or_scope.scope if isinstance(request_or_scope, HTTPConnection) else request_or_scope
    )
    try:
        added: list[tuple[bytes, bytes]] = scope[SCOPE_KEY]
    except KeyError:
        raise ConfigurationError(
            "response headers can only be added during an HTTP request of an app built by "
            "faster_core.create_app"
        ) from None
    return added


def add_response_headers(
    request_or_scope: HTTPConnection | Scope, headers: Iterable[tuple[bytes, bytes]]
) -> None:
    """Add `headers` (ASGI pairs: lower-case name, value, both bytes) to whichever response
    this request gets, after the response's own; headers added once it has started are not sent.

    Raises:
        ConfigurationError: not during an HTTP request of an app built by `create_app`.
    """
    added_response_headers(request_or_scope).extend(headers)
