"""Security headers on every HTTP response."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "SecurityHeadersMiddleware"]

Header = tuple[bytes, bytes]


class SecurityHeaders:
    """`nosniff`, frame denial and a referrer policy; HSTS too when served over HTTPS."""

    def __init__(self, *, hsts_max_age: int = 31_536_000) -> None:
        self.plain: tuple[Header, ...] = (
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        )
        hsts = f"max-age={hsts_max_age}; includeSubDomains".encode()
        self.https = (
            (*self.plain, (b"strict-transport-security", hsts)) if hsts_max_age else self.plain
        )
        self.names = frozenset(name for name, _ in self.https)

    def for_scope(self, scope: Scope) -> tuple[Header, ...]:
        return self.https if scope.get("scheme") == "https" else self.plain

    def added_to(self, headers: Iterable[Header], defaults: tuple[Header, ...]) -> list[Header]:
        """A new header list: `headers`, then each of `defaults` the app did not set itself.

        A new list, because the app's may belong to a response object that is sent again. ASGI
        requires lower-case header names, so names compare as they are.
        """
        result = list(headers)
        for key, _ in result:
            if key in self.names:
                present = {key for key, _ in result}
                return result + [item for item in defaults if item[0] not in present]
        return result + list(defaults)


class SecurityHeadersMiddleware:
    """Adds `SecurityHeaders` to every response; a header the app set itself is left alone.

    The `http` plugin does not install this class: its `RequestIdMiddleware` adds the same
    headers in the same pass, one layer fewer on every request. Use this one to add security
    headers without the request id.
    """

    def __init__(self, app: ASGIApp, *, hsts_max_age: int = 31_536_000) -> None:
        self.app = app
        self.security = SecurityHeaders(hsts_max_age=hsts_max_age)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = self.security.for_scope(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.security.added_to(message.get("headers", ()), defaults)
            await send(message)

        await self.app(scope, receive, send_with_headers)
