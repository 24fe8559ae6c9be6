"""Plugins publishing their own hooks and awaiting events (faster_core/events.py)."""

from __future__ import annotations

import asyncio

import pluggy
import pytest

from faster_core import FasterSettings, PluginInfo, call_hook_async, create_app, hookimpl, hookspec

pytestmark = pytest.mark.anyio


class AuthEvents:
    @hookspec
    def faster_auth_user_created(self, user_id: int) -> object:
        """Called after a user is created. Args: user_id: the new user. Returns: anything."""


class Publisher:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("auth")

    @hookimpl
    def faster_add_hookspecs(self, pm: pluggy.PluginManager) -> None:
        pm.add_hookspecs(AuthEvents)


class SyncSubscriber:
    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("audit", requires=("auth",))

    @hookimpl
    def faster_auth_user_created(self, user_id: int) -> str:
        self.seen.append(f"audit {user_id}")
        return "audited"


class AsyncSubscriber:
    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("mailer", after=("audit",))

    @hookimpl
    def faster_auth_user_created(self, user_id: int) -> object:
        async def send_welcome() -> str:
            await asyncio.sleep(0.01)
            self.seen.append(f"mail {user_id}")
            return "mailed"

        return send_welcome()


async def test_published_hook_reaches_subscribers_registered_before_and_after() -> None:
    seen: list[str] = []
    # The subscribers come first in the list: historic registration makes that irrelevant.
    app = create_app(
        FasterSettings(_env_file=None),
        plugins=[AsyncSubscriber(seen), SyncSubscriber(seen), Publisher()],
        load_entrypoints=False,
    )
    host = app.state.faster

    results = await call_hook_async(host.hook.faster_auth_user_created, user_id=42)

    assert results == ["audited", "mailed"]
    assert seen == ["audit 42", "mail 42"]
