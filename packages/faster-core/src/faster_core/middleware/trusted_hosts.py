"""Refuse requests whose `Host` is not one of the app's names."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

from starlette.types import ASGIApp, Receive, Scope, Send

from faster_core.problems import problem_response

__all__ = ["TrustedHostMiddleware"]


class TrustedHostMiddleware:
    """Answers 400 (problem+json) unless `Host` matches a name or a `*.suffix` pattern."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.exact = frozenset(h.lower() for h in allowed_hosts if not h.startswith("*."))
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(_host(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = problem_response(
            scope, HTTPStatus.BAD_REQUEST, detail="The Host header names no host this app serves."
        )
        await response(scope, receive, send)

    def _allowed(self, host: str) -> bool:
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))


def _host(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"host":
            host: str = value.decode("latin-1").lower()
            if host.startswith("["):  # IPv6 literal, possibly with a port
                return host.split("]", 1)[0] + "]"
            return host.split(":", 1)[0]
    return ""
