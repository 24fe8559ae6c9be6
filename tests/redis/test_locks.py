"""Distributed locks: TTL, owner token, blocking and not, extension, `@locked`, across
processes, and the failure policy (faster_redis/locks.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from faster_core.testing import client_for
from faster_redis import (
    LockNotAcquiredError,
    RedisService,
    RedisUnavailableError,
    locked,
    use_redis,
)
from faster_redis.testing import RedisServer
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).parents[2]


def service_of(app: FastAPI) -> RedisService:
    service: RedisService = app.state.faster_redis
    return service


async def test_second_holder_waits_or_gives_up(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        service = service_of(app)
        first = service.lock("job", ttl=5)
        assert await first.acquire()
        assert not await service.lock("job", ttl=5).acquire(blocking=False)
        assert not await service.lock("job", ttl=5).acquire(blocking_timeout=0.1)
        with pytest.raises(LockNotAcquiredError):
            async with service.lock("job", ttl=5, blocking=False):
                pass
        assert await first.release()
        assert await service.lock("job", ttl=5).acquire(blocking=False)


async def test_blocking_acquire_gets_the_lock_once_released(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        service = service_of(app)
        first = service.lock("job", ttl=5)
        await first.acquire()

        async def release_soon() -> None:
            await asyncio.sleep(0.1)
            await first.release()

        release = asyncio.create_task(release_soon())
        assert await service.lock("job", ttl=5).acquire(blocking_timeout=2)
        await release


async def test_overrun_holder_cannot_release_the_next_holders_lock(
    backend: dict[str, Any],
) -> None:
    app = build_app(backend)
    async with client_for(app):
        service = service_of(app)
        slow = service.lock("report", ttl=0.15)
        await slow.acquire()
        await asyncio.sleep(0.3)  # the TTL runs out while `slow` still works
        second = service.lock("report", ttl=5)
        assert await second.acquire(blocking=False)
        assert not await slow.release()
        assert not await slow.extend()
        assert await second.locked()
        assert not await service.lock("report", ttl=5).acquire(blocking=False)


async def test_extend_keeps_the_lock(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    async with client_for(app):
        service = service_of(app)
        lock = service.lock("long", ttl=0.2)
        await lock.acquire()
        assert await lock.extend(5)
        await asyncio.sleep(0.3)
        assert await lock.locked()
        assert not await service.lock("long").acquire(blocking=False)


async def test_locked_decorator_serialises_calls(backend: dict[str, Any]) -> None:
    inside = 0
    overlaps = 0

    @locked("invoice:{invoice_id}", ttl=5, timeout=5)
    async def settle(invoice_id: int) -> None:
        nonlocal inside, overlaps
        inside += 1
        overlaps += inside > 1
        await asyncio.sleep(0.01)
        inside -= 1

    # About serialisation, not outages: a loaded machine must not time the polling out.
    app = build_app({**backend, "socket_timeout": 5.0})
    async with client_for(app):
        with use_redis(service_of(app)):
            await asyncio.gather(*(settle(1) for _ in range(10)))
    assert overlaps == 0


async def test_outage_fails_closed_by_default(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app(fault_settings)
    async with client_for(app):
        with redis_fault_server.down(), pytest.raises(RedisUnavailableError):
            async with service_of(app).lock("x"):
                pass


async def test_outage_can_fail_open(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = build_app({**fault_settings, "lock_failure": "open"})
    async with client_for(app):
        with redis_fault_server.down():
            async with service_of(app).lock("x") as lock:
                assert lock.unguarded


def test_no_double_runs_in_1000_contended_attempts_across_processes(
    redis_test_settings: dict[str, Any],
) -> None:
    url, prefix = redis_test_settings["url"], redis_test_settings["prefix"]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.redis.lock_worker", url, prefix, "250"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [w.communicate(timeout=60)[0].split() for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0]
    assert sum(int(runs) for runs, _ in outputs) == 1000
    assert sum(int(doubles) for _, doubles in outputs) == 0
