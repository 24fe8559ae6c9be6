"""Request observers (`faster_request_observers`): told about every request from the request id
pass, or by `ObserverMiddleware` without the `http` plugin (faster_core/middleware/observers.py)."""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

import pytest
from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import StreamingResponse
from starlette.types import Message, Scope

from faster_core import PluginInfo, RequestObserver, RequestWatch, hookimpl
from faster_core.middleware import ObserverMiddleware, observe_all
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio

_watched: ContextVar[str | None] = ContextVar("watched", default=None)


class Watch:
    def __init__(self, journal: list[tuple[Any, ...]], name: str, token: Token[str | None]):
        self.journal = journal
        self.name = name
        self.token = token

    def response_started(self, message: Message) -> None:
        self.journal.append((self.name, "started", message["status"]))

    def response_finished(self) -> None:
        self.journal.append((self.name, "finished"))

    def request_finished(self) -> None:
        self.journal.append((self.name, "over"))
        _watched.reset(self.token)


class Observer:
    def __init__(self, journal: list[tuple[Any, ...]], name: str = "watch") -> None:
        self.journal = journal
        self.name = name

    def request_started(self, scope: Scope, request_id: str) -> RequestWatch | None:
        if scope["path"] == "/unwatched":
            return None
        self.journal.append((self.name, "request", scope["path"], request_id))
        return Watch(self.journal, self.name, _watched.set(request_id))


class ObservedPlugin:
    def __init__(self, *observers: RequestObserver, name: str = "observed") -> None:
        self.observers = list(observers)
        self.name = name
        self.journal: list[tuple[Any, ...]] = []

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name)

    @hookimpl
    def faster_request_observers(self) -> list[RequestObserver]:
        return self.observers

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()
        journal = self.journal

        @router.get("/seen")
        async def seen() -> dict[str, str | None]:
            return {"watched": _watched.get()}

        @router.get("/unwatched")
        async def unwatched() -> dict[str, str | None]:
            return {"watched": _watched.get()}

        @router.get("/boom")
        async def boom() -> None:
            raise RuntimeError("unhandled")

        @router.get("/later")
        async def later(tasks: BackgroundTasks) -> dict[str, bool]:
            tasks.add_task(lambda: journal.append(("task", "ran")))
            return {"ok": True}

        @router.get("/stream")
        async def stream() -> StreamingResponse:
            async def chunks() -> Any:
                for number in range(3):
                    journal.append(("chunk", number))
                    yield f"{number}\n".encode()

            return StreamingResponse(chunks(), media_type="text/plain")

        return [router]


async def test_an_observer_sees_the_request_with_its_id_in_the_handlers_context(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[tuple[Any, ...]] = []
    plugin = ObservedPlugin(Observer(journal))
    async with client_for(faster_app_factory(plugin)) as client:
        response = await client.get("/seen", headers={"X-Request-ID": "abc-1"})
    assert response.json() == {"watched": "abc-1"}
    assert journal == [
        ("watch", "request", "/seen", "abc-1"),
        ("watch", "started", 200),
        ("watch", "finished"),
        ("watch", "over"),
    ]
    assert _watched.get() is None


async def test_an_observer_sees_errors_the_core_answers(faster_app_factory: AppFactory) -> None:
    journal: list[tuple[Any, ...]] = []
    plugin = ObservedPlugin(Observer(journal))
    async with client_for(faster_app_factory(plugin)) as client:
        missing = await client.get("/nowhere")
        failed = await client.get("/boom")
    assert (missing.status_code, failed.status_code) == (404, 500)
    statuses = [entry[2] for entry in journal if entry[1] == "started"]
    assert statuses == [404, 500]
    assert journal.count(("watch", "over")) == 2


async def test_the_response_is_finished_before_background_tasks_run(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[tuple[Any, ...]] = []
    plugin = ObservedPlugin(Observer(journal))
    plugin.journal = journal
    async with client_for(faster_app_factory(plugin)) as client:
        await client.get("/later")
    assert journal.index(("watch", "finished")) < journal.index(("task", "ran"))
    assert journal[-1] == ("watch", "over")


async def test_a_streamed_response_finishes_after_its_last_chunk(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[tuple[Any, ...]] = []
    plugin = ObservedPlugin(Observer(journal))
    plugin.journal = journal
    async with client_for(faster_app_factory(plugin)) as client:
        response = await client.get("/stream")
    assert response.text == "0\n1\n2\n"
    assert journal.index(("chunk", 2)) < journal.index(("watch", "finished"))
    assert journal.count(("watch", "finished")) == 1


async def test_observers_of_several_plugins_are_told_in_plugin_order(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[tuple[Any, ...]] = []
    first = ObservedPlugin(Observer(journal, "first"), name="first")
    second = ObservedPlugin(Observer(journal, "second"), name="second")
    async with client_for(faster_app_factory(first, second)) as client:
        await client.get("/seen")
    assert [entry[:2] for entry in journal] == [
        ("first", "request"),
        ("second", "request"),
        ("first", "started"),
        ("second", "started"),
        ("first", "finished"),
        ("second", "finished"),
        ("second", "over"),
        ("first", "over"),
    ]


async def test_an_observer_may_leave_a_request_unwatched(faster_app_factory: AppFactory) -> None:
    journal: list[tuple[Any, ...]] = []
    plugin = ObservedPlugin(Observer(journal))
    async with client_for(faster_app_factory(plugin)) as client:
        response = await client.get("/unwatched")
    assert response.json() == {"watched": None}
    assert journal == []


async def test_without_the_http_plugin_observers_are_not_told(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[tuple[Any, ...]] = []
    plugin = ObservedPlugin(Observer(journal))
    app = faster_app_factory(plugin, disabled_plugins=["http"])
    async with client_for(app) as client:
        await client.get("/seen")
    assert journal == []


async def test_observer_middleware_tells_an_observer_without_the_http_plugin(
    faster_app_factory: AppFactory,
) -> None:
    journal: list[tuple[Any, ...]] = []
    plugin = ObservedPlugin()
    app = faster_app_factory(plugin, disabled_plugins=["http"])
    app.add_middleware(ObserverMiddleware, observer=Observer(journal))
    async with client_for(app) as client:
        response = await client.get("/seen")
    assert response.json() == {"watched": ""}
    assert journal == [
        ("watch", "request", "/seen", ""),
        ("watch", "started", 200),
        ("watch", "finished"),
        ("watch", "over"),
    ]


def test_observe_all_needs_no_wrapper_for_one_observer() -> None:
    only = Observer([])
    assert observe_all([]) is None
    assert observe_all([only]) is only
    assert observe_all([only, Observer([])]) is not only
