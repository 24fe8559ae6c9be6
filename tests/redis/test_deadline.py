"""One timer bounds every call of a service: each call times out at its own deadline, an
answer in time is returned, and a cancellation from outside stays one
(faster_redis/_deadline.py)."""

from __future__ import annotations

import asyncio

import pytest

from faster_redis._deadline import SharedTimeout

pytestmark = pytest.mark.anyio


async def test_an_answer_in_time_is_returned() -> None:
    shared = SharedTimeout(1.0)

    async def answer() -> str:
        await asyncio.sleep(0.01)
        return "ok"

    assert await shared.run(answer()) == "ok"


async def test_each_call_times_out_at_its_own_deadline() -> None:
    shared = SharedTimeout(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def frozen(delay: float) -> float:
        await asyncio.sleep(delay)
        try:
            await shared.run(asyncio.sleep(10))
        except TimeoutError:
            return loop.time() - started
        raise AssertionError("not timed out")

    async def quick(delay: float) -> str:
        await asyncio.sleep(delay)
        return await shared.run(asyncio.sleep(0.01, "quick"))

    first, late, answer = await asyncio.gather(frozen(0), frozen(0.1), quick(0.05))
    # Upper bounds with slack for a loaded machine; the lower ones tell the deadlines apart.
    assert 0.2 <= first < 1.0
    assert 0.3 <= late < 1.1
    assert answer == "quick"


async def test_a_cancellation_from_outside_is_not_a_timeout() -> None:
    shared = SharedTimeout(5.0)
    task = asyncio.create_task(shared.run(asyncio.sleep(10)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_timer_outlives_idle_periods() -> None:
    shared = SharedTimeout(0.05)
    assert await shared.run(asyncio.sleep(0, "before")) == "before"
    await asyncio.sleep(0.1)  # the timer fires with nothing running
    with pytest.raises(TimeoutError):
        await shared.run(asyncio.sleep(10))


def test_a_second_event_loop_gets_a_timer_of_its_own() -> None:
    shared = SharedTimeout(0.05)

    async def quick() -> str:
        return await shared.run(asyncio.sleep(0, "quick"))

    async def frozen() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await shared.run(asyncio.sleep(2))
        return loop.time() - started

    assert asyncio.run(quick()) == "quick"  # leaves its timer on a loop that then closes
    assert asyncio.run(frozen()) < 1.0
