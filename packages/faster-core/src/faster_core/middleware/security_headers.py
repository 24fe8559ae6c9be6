"""Security headers on every HTTP response."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeadersMiddleware"]


class SecurityHeadersMiddleware:
    """Adds `nosniff`, frame denial and a referrer policy; HSTS only when served over HTTPS.

    A header the app already set is left as the app set it.
    """

    def __init__(self, app: ASGIApp, *, hsts_max_age: int = 31_536_000) -> None:
        self.app = app
        self.headers = (
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        )
        hsts = f"max-age={hsts_max_age}; includeSubDomains".encode()
        self.https_headers = (
            (*self.headers, (b"strict-transport-security", hsts)) if hsts_max_age else self.headers
        )
        self.names = frozenset(name for name, _ in self.https_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.https_headers if scope.get("scheme") == "https" else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_defaults(message.get("headers", ()), extra, self.names)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_defaults(
    headers: Iterable[tuple[bytes, bytes]],
    defaults: tuple[tuple[bytes, bytes], ...],
    names: frozenset[bytes],
) -> list[tuple[bytes, bytes]]:
    """A new header list: `headers`, then each of `defaults` the app did not set itself.

    A new list, because the app's may belong to a response object that is sent again. ASGI
    requires lower-case header names, so names compare as they are.
    """
    result = list(headers)
    for key, _ in result:
        if key in names:
            present = {key for key, _ in result}
            return result + [item for item in defaults if item[0] not in present]
    return result + list(defaults)
