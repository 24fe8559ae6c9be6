"""Plugin lifespans: entered in order, left in reverse, also when a later one fails
(faster_core/lifespan.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request

from faster_core import PluginInfo, PluginStartupError, hookimpl
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio


class Resource:
    """Stands for an engine or a client: opened at start-up, closed at shutdown."""

    def __init__(self, name: str, journal: list[str]) -> None:
        self.name, self.journal, self.closed = name, journal, False

    def close(self) -> None:
        self.closed = True
        self.journal.append(f"stop {self.name}")


class LifespanPlugin:
    def __init__(
        self, name: str, journal: list[str], *, requires: tuple[str, ...] = (), fail: bool = False
    ) -> None:
        self.info = PluginInfo(name, requires=requires)
        self.journal, self.fail = journal, fail

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return self.info

    @hookimpl
    def faster_lifespan(self) -> Callable[[FastAPI], Any]:
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
            if self.fail:
                raise ConnectionRefusedError("connection refused by 127.0.0.1:1")
            resource = Resource(self.info.name, self.journal)
            self.journal.append(f"start {self.info.name}")
            try:
                yield {f"{self.info.name}_resource": resource}
            finally:
                resource.close()

        return lifespan


class StateReader:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("reader")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/state")
        async def state(request: Request) -> dict[str, str]:
            return {
                "from_request": request.state.db_resource.name,
                "from_app": request.app.state.db_resource.name,
            }

        return [router]


async def test_lifespans_start_in_plugin_order_and_stop_in_reverse(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[str] = []
    app = faster_app_factory(
        LifespanPlugin("auth", journal, requires=("db",)),
        LifespanPlugin("db", journal),
        LifespanPlugin("cache", journal, requires=("db",)),
    )

    async with client_for(app):
        assert journal == ["start db", "start auth", "start cache"]

    assert journal[3:] == ["stop cache", "stop auth", "stop db"]


async def test_failed_startup_names_the_plugin_and_closes_earlier_ones(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[str] = []
    app = faster_app_factory(
        LifespanPlugin("db", journal),
        LifespanPlugin("redis", journal),
        LifespanPlugin("auth", journal, requires=("db", "redis"), fail=True),
    )

    with pytest.raises(PluginStartupError) as caught:
        async with client_for(app):
            pytest.fail("the app must not start")

    assert "plugin 'auth' failed to start: ConnectionRefusedError" in str(caught.value)
    assert journal == ["start db", "start redis", "stop redis", "stop db"]


async def test_yielded_resources_reach_request_state_and_app_state(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(LifespanPlugin("db", []), StateReader())

    async with client_for(app) as client:
        response = await client.get("/state")

    assert response.json() == {"from_request": "db", "from_app": "db"}


async def test_an_app_lifespan_runs_after_every_plugin(faster_app_factory: AppFactory) -> None:
    from faster_core import FasterSettings, create_app

    journal: list[str] = []

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        journal.append("start app")
        yield
        journal.append("stop app")

    app = create_app(
        FasterSettings(_env_file=None, env="test"),
        plugins=[LifespanPlugin("db", journal)],
        load_entrypoints=False,
        lifespan=app_lifespan,
    )
    async with client_for(app):
        pass

    assert journal == ["start db", "start app", "stop app", "stop db"]


async def test_two_plugins_providing_one_state_key_is_a_startup_error(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[str] = []

    class Impostor(LifespanPlugin):
        @hookimpl
        def faster_lifespan(self) -> Callable[[FastAPI], Any]:
            @asynccontextmanager
            async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
                yield {"db_resource": "not the engine"}

            return lifespan

    app = faster_app_factory(LifespanPlugin("db", journal), Impostor("impostor", journal))

    with pytest.raises(
        PluginStartupError, match="'db' and 'impostor' both provide state 'db_resource'"
    ):
        async with client_for(app):
            pytest.fail("the app must not start")

    assert journal == ["start db", "stop db"]


async def test_gc_freeze_freezes_the_heap_once_every_plugin_started_and_undoes_it_at_shutdown(
    faster_app_factory: AppFactory,
) -> None:
    import gc

    journal: list[str] = []
    frozen_at_start: list[int] = []

    class Probe(LifespanPlugin):
        @hookimpl
        def faster_lifespan(self) -> Callable[[FastAPI], Any]:
            @asynccontextmanager
            async def lifespan(app: FastAPI) -> AsyncIterator[None]:
                frozen_at_start.append(gc.get_freeze_count())
                yield

            return lifespan

    app = faster_app_factory(LifespanPlugin("db", journal), Probe("probe", journal), gc_freeze=True)
    assert gc.get_freeze_count() == 0

    async with client_for(app) as client:
        assert gc.get_freeze_count() > 0  # the plugins' state and the modules: out of reach
        assert (await client.get("/health/live")).status_code == 200

    assert frozen_at_start == [0]  # not before the last plugin started
    assert gc.get_freeze_count() == 0
    assert journal == ["start db", "stop db"]


@pytest.mark.parametrize("full_threshold", [10, 500])
async def test_gc_freeze_spaces_full_collections_while_frozen_and_restores_the_thresholds(
    faster_app_factory: AppFactory, full_threshold: int
) -> None:
    import gc

    from faster_core.lifespan import FROZEN_FULL_COLLECTION_SPACING

    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], full_threshold)
    try:
        app = faster_app_factory(gc_freeze=True)
        async with client_for(app) as client:
            assert (await client.get("/health/live")).status_code == 200
            # a larger spacing someone chose is kept; CPython's 10 is raised
            assert gc.get_threshold() == (
                before[0],
                before[1],
                max(full_threshold, FROZEN_FULL_COLLECTION_SPACING),
            )
        assert gc.get_threshold() == (before[0], before[1], full_threshold)
    finally:
        gc.set_threshold(*before)


async def test_gc_freeze_is_left_alone_in_tests_and_on_elsewhere() -> None:
    from faster_core import FasterSettings
    from faster_core.settings import Environment

    def enabled(**values: Any) -> bool:
        return FasterSettings(_env_file=None, **values).gc_freeze_enabled

    assert not enabled(env=Environment.TEST)
    assert enabled(env=Environment.DEVELOPMENT)
    assert enabled(env=Environment.PRODUCTION)
    assert not enabled(env=Environment.PRODUCTION, gc_freeze=False)
    assert enabled(env=Environment.TEST, gc_freeze=True)
