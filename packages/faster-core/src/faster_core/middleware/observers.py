"""Request observers: code that watches every HTTP request (access logs, metrics) without a
middleware layer of its own.

The `http` plugin's request id pass tells the observers plugins declare with
`faster_request_observers`; `ObserverMiddleware` does the same for an app without that plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ObserverMiddleware", "RequestObserver", "RequestWatch", "observe_all"]


class RequestWatch(Protocol):
    """One request, watched by an observer: told when the response starts, when its last body
    chunk has been sent, and when the request is over (always, after an exception too)."""

    def response_started(self, message: Message) -> None: ...

    def response_finished(self) -> None: ...

    def request_finished(self) -> None: ...


class RequestObserver(Protocol):
    """Watches every HTTP request from the outermost layer (see `faster_request_observers`).

    `request_started` runs in the request's context before the app is called, so a context
    variable it sets is seen by everything handling the request; it returns `None` to leave
    this request unwatched.
    """

    def request_started(self, scope: Scope, request_id: str) -> RequestWatch | None: ...


class _Watches:
    """Several watches of one request, told in order."""

    __slots__ = ("watches",)

    def __init__(self, watches: list[RequestWatch]) -> None:
        self.watches = watches

    def response_started(self, message: Message) -> None:
        for watch in self.watches:
            watch.response_started(message)

    def response_finished(self) -> None:
        for watch in self.watches:
            watch.response_finished()

    def request_finished(self) -> None:
        for watch in reversed(self.watches):
            watch.request_finished()


class _Observers:
    """Several observers as one (the common case, one observer, needs no wrapper)."""

    __slots__ = ("observers",)

    def __init__(self, observers: Sequence[RequestObserver]) -> None:
        self.observers = tuple(observers)

    def request_started(self, scope: Scope, request_id: str) -> RequestWatch | None:
        watches = [
            watch
            for observer in self.observers
            if (watch := observer.request_started(scope, request_id)) is not None
        ]
        if not watches:
            return None
        return watches[0] if len(watches) == 1 else _Watches(watches)


def observe_all(observers: Sequence[RequestObserver]) -> RequestObserver | None:
    """One observer telling each of `observers`, in order; `None` when there are none."""
    if not observers:
        return None
    return observers[0] if len(observers) == 1 else _Observers(observers)


class ObserverMiddleware:
    """Tells `observer` about each HTTP request, as the request id pass does: for an app
    without the `http` plugin. The request id it passes is the one in `request.state`, or `""`.
    """

    def __init__(self, app: ASGIApp, *, observer: RequestObserver) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.get("state")
        request_id = state.get("request_id", "") if state else ""
        watch = self.observer.request_started(scope, request_id)
        if watch is None:
            await self.app(scope, receive, send)
            return

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                watch.response_started(message)
            elif not message.get("more_body", False):
                await send(message)
                watch.response_finished()
                return
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            watch.request_finished()
