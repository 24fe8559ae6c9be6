"""CORS from an explicit allow-list: an origin not on it gets no CORS headers at all."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CORSMiddleware"]


class CORSMiddleware:
    """Starlette's CORS handling, reached only by requests from an allowed origin.

    Starlette adds `Access-Control-Allow-Credentials` and friends to every response that carries
    an `Origin`; here a request from an origin off the list (or `null`) passes straight to the
    app, so its response has no CORS header.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allow_origins: Sequence[str],
        allow_credentials: bool = False,
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        expose_headers: Sequence[str] = ("X-Request-ID",),
        max_age: int = 600,
    ) -> None:
        self.app = app
        self.origins = frozenset(allow_origins) - {"null"}
        self.any_origin = "*" in self.origins
        self.cors = StarletteCORSMiddleware(
            app,
            allow_origins=sorted(self.origins),
            allow_credentials=allow_credentials,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            expose_headers=expose_headers,
            max_age=max_age,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin = _origin(scope)
            if origin is not None and (origin in self.origins or self.any_origin):
                await self.cors(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _origin(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"origin":
            origin = value.decode("latin-1")
            return None if origin == "null" else origin
    return None
