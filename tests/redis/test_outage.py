"""Redis killed mid-load, restarted, then frozen (SIGSTOP) and continued: the failure policy of
each feature, the breaker, health, and recovery without restarting the app
(faster_redis/service.py, circuit.py, health.py and each feature's policy)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import httpx
import pytest

from faster_core.testing import client_for
from faster_redis.testing import RedisServer
from tests.redis.apps import outage_app

pytestmark = pytest.mark.anyio

SOCKET_TIMEOUT = 0.25
ROUTES = (("GET", "/cached/a"), ("GET", "/open"), ("POST", "/login"), ("GET", "/health/live"))


class Load:
    """Workers calling every route in a loop, recording (phase, path) -> statuses, latencies."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.phase = "up"
        self.statuses: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.stopped = asyncio.Event()

    async def worker(self) -> None:
        while not self.stopped.is_set():
            for method, path in ROUTES:
                phase, started = self.phase, time.perf_counter()
                response = await self.client.request(method, path)
                if self.phase != phase:
                    phase = "transition"  # in flight while the server changed state
                self.statuses[phase, path].append(response.status_code)
                self.latencies[phase, path].append(time.perf_counter() - started)
                # With the breaker open nothing suspends: yield, as separate requests would.
                await asyncio.sleep(0)

    def all_statuses(self) -> list[int]:
        return [s for statuses in self.statuses.values() for s in statuses]


async def recovered(client: httpx.AsyncClient, deadline: float) -> float:
    """Seconds until readiness passes and the fail-closed route serves again."""
    started = time.perf_counter()
    while time.perf_counter() - started < deadline:
        ready = await client.get("/health/ready")
        login = await client.post("/login")
        if ready.json().get("status") == "pass" and login.status_code == 200:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    return float("inf")


async def test_outage_under_load(
    fault_settings: dict[str, Any], redis_fault_server: RedisServer
) -> None:
    app = outage_app({**fault_settings, "socket_timeout": SOCKET_TIMEOUT})
    async with client_for(app) as client:
        await client.get("/cached/a")
        load = Load(client)
        workers = [asyncio.create_task(load.worker()) for _ in range(8)]
        await asyncio.sleep(0.5)
        for _ in range(600):  # up to 30 s on a loaded machine: every route answered while up
            if all(load.statuses["up", path] for _, path in ROUTES):
                break
            await asyncio.sleep(0.05)

        load.phase = "killed"
        redis_fault_server.stop()
        await asyncio.sleep(1.5)
        ready_killed = await client.get("/health/ready")
        load.phase = "restarted"
        redis_fault_server.start()
        after_restart = await recovered(client, 10)

        load.phase = "frozen"
        redis_fault_server.freeze()
        await asyncio.sleep(1.5)
        ready_frozen = await client.get("/health/ready")
        load.phase = "continued"
        redis_fault_server.thaw()
        after_thaw = await recovered(client, 10)

        load.stopped.set()
        await asyncio.gather(*workers)

    assert 500 not in load.all_statuses()
    for phase in ("up", "killed", "restarted", "frozen", "continued"):
        assert set(load.statuses[phase, "/cached/a"]) == {200}, phase
        assert set(load.statuses[phase, "/open"]) == {200}, phase
        assert set(load.statuses[phase, "/health/live"]) == {200}, phase
    assert set(load.statuses["up", "/login"]) == {200}
    for phase in ("killed", "frozen"):
        assert 503 in load.statuses[phase, "/login"], phase
        assert set(load.statuses[phase, "/login"]) <= {200, 503}, phase
    # A frozen server costs each request at most about one socket timeout, then nothing once
    # the breaker is open.
    frozen = sorted(load.latencies["frozen", "/cached/a"])
    assert frozen[-1] < SOCKET_TIMEOUT + 1.0  # slack for a shared 2-core machine
    assert frozen[len(frozen) // 2] < SOCKET_TIMEOUT
    assert ready_killed.status_code == 200
    assert ready_killed.json()["status"] == "degraded"
    assert ready_frozen.status_code == 200
    assert ready_frozen.json()["status"] == "degraded"
    assert after_restart < 10
    assert after_thaw < 10
