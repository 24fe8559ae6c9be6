"""The `hello` plugin (entry point `hello` in the `faster` group names this class).

The core makes one instance per app, so the instance can hold that app's guestbook between the
lifespan that creates it and the auth events that feed it, with no module-level state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from faster_core import (
    CheckResult,
    HealthCheck,
    PluginHost,
    PluginInfo,
    PluginLifespan,
    hookimpl,
)
from faster_hello._version import __version__
from faster_hello.guestbook import Guestbook
from faster_hello.routes import hello_router
from faster_hello.settings import HelloSettings

__all__ = ["NAME", "HelloPlugin"]

NAME = "hello"
logger = logging.getLogger(__name__)


class HelloPlugin:
    def __init__(self) -> None:
        self.guestbook: Guestbook | None = None

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        # `after`: when auth is enabled, its routes and lifespan come first (soft: hello also
        # runs without it). No `requires`: the plugin needs nothing but faster-core.
        return PluginInfo(NAME, __version__, after=("auth",), settings=HelloSettings)

    @hookimpl
    def faster_routers(self) -> Iterable[APIRouter]:
        return [hello_router()]

    @hookimpl
    def faster_lifespan(self, host: PluginHost) -> PluginLifespan:
        settings = host.settings_for(NAME, HelloSettings)

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
            self.guestbook = Guestbook(settings.greeting, settings.guestbook_size)
            logger.info("hello plugin started, greeting with %r", settings.greeting)
            try:
                yield {"hello": self.guestbook}
            finally:
                logger.info("hello plugin stopped after %s guests", len(self.guestbook.guests))
                self.guestbook = None

        return lifespan

    @hookimpl
    def faster_health_checks(self) -> Iterable[HealthCheck]:
        async def guestbook(app: FastAPI) -> CheckResult:
            book: Guestbook = app.state.hello  # set by the lifespan; absent: the check fails
            return CheckResult(detail=f"{len(book.guests)} guests, {book.sign_ins} sign-ins")

        return [HealthCheck(NAME, guestbook, critical=False, timeout=0.5)]

    # faster-auth's events. `optionalhook`: without faster-auth they are simply never called.
    # `user` is faster-auth's `UserOut`; typed `Any` so that this package needs only faster-core.

    @hookimpl(optionalhook=True)
    def faster_auth_user_created(self, user: Any) -> None:
        if self.guestbook is not None:
            self.guestbook.welcome(str(user.email or user.id))

    @hookimpl(optionalhook=True)
    def faster_auth_user_signed_in(self, user: Any) -> None:
        if self.guestbook is not None:
            self.guestbook.count_sign_in()
