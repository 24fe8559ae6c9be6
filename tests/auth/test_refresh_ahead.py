"""Refreshes ahead of time at shutdown (faster_auth/_refresh_ahead.py): `stop()` ends them
while the resources they use are still open, and does not wait forever for one."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from faster_auth import _refresh_ahead
from faster_auth._refresh_ahead import RefreshAhead

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_stop_returns_once_a_running_refresh_has_cleaned_up() -> None:
    ahead = RefreshAhead()
    started = asyncio.Event()
    cleaned: list[str] = []

    async def refresh() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # a look-up that has not answered yet
        finally:
            await asyncio.sleep(0.05)  # closing its session takes a turn of the loop
            cleaned.append("session closed")

    ahead.start("user-1", refresh)
    await started.wait()
    await ahead.stop()
    assert cleaned == ["session closed"]


async def test_stop_with_nothing_running_returns_at_once() -> None:
    await RefreshAhead().stop()


async def test_stop_gives_up_on_a_refresh_that_does_not_end(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_refresh_ahead, "STOP_SECONDS", 0.1)
    ahead = RefreshAhead()
    started = asyncio.Event()
    release = asyncio.Event()

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await release.wait()  # a clean-up waiting on a frozen server

    ahead.start("user-2", stuck)
    await started.wait()
    begun = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="faster_auth._refresh_ahead"):
        await ahead.stop()
    assert time.monotonic() - begun < 2.0
    assert "1 refreshes ahead of time had not ended" in caplog.text
    release.set()
    await asyncio.sleep(0.01)
