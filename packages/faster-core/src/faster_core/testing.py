"""The pytest plugin (entry point `pytest11`) with fixtures for users' own tests.

Fixtures:
    faster_settings: core settings for tests (`env=test`, no `.env` file).
    faster_app_factory: builds an app: `faster_app_factory(*plugins, load_entrypoints=False,
        **settings_overrides)`, the overrides applied over `faster_settings`.
    faster_app: an app from `faster_app_factory()` with no extra plugins.
    faster_client: an `httpx.AsyncClient` over ASGI, the app's lifespan running around it.

Async fixtures run under anyio's pytest plugin (mark tests with `@pytest.mark.anyio`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from faster_core.app import create_app
from faster_core.settings import Environment, FasterSettings

__all__ = ["client_for", "faster_app", "faster_app_factory", "faster_client", "faster_settings"]

AppFactory = Callable[..., FastAPI]


@asynccontextmanager
async def client_for(
    app: FastAPI, base_url: str = "http://testserver", *, startup_timeout: float = 10.0
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `app` over ASGI, with the app's lifespan entered and left around it."""
    async with LifespanManager(app, startup_timeout=startup_timeout) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@pytest.fixture
def faster_settings() -> FasterSettings:
    return FasterSettings(_env_file=None, env=Environment.TEST)


@pytest.fixture
def faster_app_factory(faster_settings: FasterSettings) -> AppFactory:
    def factory(*plugins: object, load_entrypoints: bool = False, **overrides: Any) -> FastAPI:
        settings = (
            FasterSettings.model_validate({**faster_settings.model_dump(), **overrides})
            if overrides
            else faster_settings
        )
        return create_app(settings, plugins=list(plugins), load_entrypoints=load_entrypoints)

    return factory


@pytest.fixture
def faster_app(faster_app_factory: AppFactory) -> FastAPI:
    return faster_app_factory()


@pytest.fixture
async def faster_client(
    faster_app: FastAPI, anyio_backend: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(faster_app) as client:
        yield client
