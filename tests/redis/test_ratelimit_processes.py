"""Rate limits hold across processes: 4 uvicorn workers, 1,000 simultaneous requests, a limit of
100 (faster_redis/ratelimit.py, _scripts.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faster_redis.testing import free_port

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).parents[2]


def uvicorn_command(port: int) -> list[str]:
    options = {"host": "127.0.0.1", "port": str(port), "log-level": "warning"}
    # Keep idle connections open while the other workers start (a closed one is a ReadError).
    options["timeout-keep-alive"] = "60"
    command = [sys.executable, "-m", "uvicorn", "tests.redis.apps:limited_app", "--factory"]
    for name, value in options.items():
        command += [f"--{name}", value]
    # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 itself.
    return [*command, "--no-proxy-headers"]


@pytest.fixture
def workers(redis_test_settings: dict[str, Any]) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "FASTER_REDIS_URL": redis_test_settings["url"],
        "FASTER_REDIS_PREFIX": redis_test_settings["prefix"],
        # About exactness, not outages: a loaded machine must not time a check out (fail open).
        "FASTER_REDIS_SOCKET_TIMEOUT": "10",
        "PYTHONPATH": str(ROOT),
    }
    ports = [free_port() for _ in range(4)]
    processes = [subprocess.Popen(uvicorn_command(port), cwd=ROOT, env=env) for port in ports]
    try:
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


async def wait_until_serving(client: httpx.AsyncClient, bases: list[str]) -> None:
    async with asyncio.timeout(30):
        for base in bases:
            while True:
                try:
                    if (await client.get(f"{base}/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)


async def test_exactly_100_of_1000_across_4_processes(workers: list[str]) -> None:
    # All 1,000 are issued at once; 25 connections per worker carry them (more only adds
    # connect timeouts on a loaded machine, not concurrency at the limiter).
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await wait_until_serving(client, workers)
        responses = await asyncio.gather(
            *(
                # Every request claims another client address; the peer is not a trusted proxy.
                client.get(
                    f"{workers[i % 4]}/limited",
                    headers={"x-forwarded-for": f"198.51.100.{i % 250}"},
                )
                for i in range(1000)
            )
        )
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 100
    assert codes.count(429) == 900
    assert all("retry-after" in r.headers for r in responses if r.status_code == 429)
    assert {r.headers.get("ratelimit-policy") for r in responses} == {'"exact";q=100;w=60'}
