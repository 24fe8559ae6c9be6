"""Fault scenarios under steady load: PostgreSQL stopped and restarted, PostgreSQL frozen, Redis
killed and restarted, Redis frozen.

Each scenario runs once (a module-scoped fixture, on servers of its own) and the tests below
check one property each on what it recorded: no 500, liveness always 200, readiness (or the
`/health` detail, for a dependency whose policy is to serve degraded) reflecting the outage
within 2 s, recovery within 10 s of the dependency coming back without restarting the app, and
no acknowledged write lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from fastapi import FastAPI

from faster_core import FasterSettings
from faster_core.testing import client_for
from tests.integration._load import NO_ANSWER, Report, run_scenario
from tests.integration._procs import (
    PostgresServer,
    RedisServer,
    new_database,
    postgres_server,
    write_signing_key,
)
from tests.integration.scale_app import create_scale_app

READY_WITHIN = 2.0
RECOVER_WITHIN = 10.0
STATEMENT_TIMEOUT = 2.0
POOL_TIMEOUT = 2.0
CLIENT_MARGIN = 1.0  # faster-db's client gives up this long after the server's statement_timeout
ANSWER_WITHIN = POOL_TIMEOUT + STATEMENT_TIMEOUT + CLIENT_MARGIN + 1.5
"""The slowest answer allowed while a dependency is out: a wait for a pooled connection, then one
statement bounded on the client side, plus slack for a machine shared with other test runs (in
process, the load and the app share one event loop). A frozen dependency stays out longer than
this (FROZEN_FOR), so a request that waits for the thaw fails it."""
FROZEN_FOR = 10.0


def _app(db_url: str, redis_url: str, folder: Path) -> FastAPI:
    settings = FasterSettings(
        _env_file=None,
        env="test",
        plugin_settings={
            "db": {
                "url": db_url,
                "auto_migrate": True,
                "connect_timeout": 1.0,
                "statement_timeout": STATEMENT_TIMEOUT,
                "pool_timeout": POOL_TIMEOUT,
                "health_timeout": 1.0,
                "retry_after": 1,
            },
            "redis": {
                "url": redis_url,
                "socket_timeout": 0.5,
                "connect_timeout": 0.5,
                "circuit_reset_timeout": 0.5,
                "startup_retries": 0,
            },
            "auth": {"private_key_file": str(write_signing_key(folder))},
            "observability": {"access_log": False, "configure_logging": False},
        },
    )
    return create_scale_app(settings)


def _signal_tree(pid: int, signum: signal.Signals) -> None:
    """`signum` to the postmaster and every backend: a frozen host, not only a frozen listener."""
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for process in processes:
        with contextlib.suppress(ProcessLookupError):  # a backend that has just exited
            os.kill(process.pid, signum)


def _postgres_pid(server: PostgresServer) -> int:
    assert server.process is not None
    return server.process.pid


def _faults(
    kind: str, postgres: PostgresServer, redis: RedisServer
) -> tuple[Callable[[], None], Callable[[], None]]:
    if kind == "postgres-stopped":
        return postgres.kill, postgres.start
    if kind == "postgres-frozen":
        return (
            lambda: _signal_tree(_postgres_pid(postgres), signal.SIGSTOP),
            lambda: _signal_tree(_postgres_pid(postgres), signal.SIGCONT),
        )
    if kind == "redis-killed":
        return redis.stop, redis.start
    assert kind == "redis-frozen"
    return redis.freeze, redis.thaw


@pytest.fixture(
    scope="module",
    params=["postgres-stopped", "postgres-frozen", "redis-killed", "redis-frozen"],
)
def report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Report]:
    kind: str = request.param
    redis = RedisServer()
    redis.start()
    try:
        with postgres_server() as postgres:
            app = _app(new_database(postgres), redis.url, tmp_path_factory.mktemp(kind))
            fault, restore = _faults(kind, postgres, redis)
            # A frozen dependency stays out longer: a request that waits for it all along
            # then stands out from the slowness of a loaded machine.
            outage = FROZEN_FOR if kind.endswith("frozen") else 4.0
            yield asyncio.run(run_scenario(kind, app, fault, restore, outage=outage))
    finally:
        redis.close()


def test_no_response_is_a_server_error(report: Report) -> None:
    assert report.during_outage(), "no request was sent during the outage"
    assert 500 not in report.statuses()
    assert report.statuses() <= {200, 204, 429, 503, NO_ANSWER}, report.statuses()


def test_liveness_answers_200_throughout(report: Report) -> None:
    live = [probe.status for probe in report.probes if probe.path == "/health/live"]
    assert len(live) > 5
    assert set(live) == {200}


def test_the_outage_shows_in_health_within_2_seconds(report: Report) -> None:
    """Every probe sent from 2 s after the fault until the restore shows it."""
    path = "/health/ready" if report.kind.startswith("postgres") else "/health"
    late = [
        probe
        for probe in report.probes
        if probe.path == path
        and report.fault_at + READY_WITHIN <= probe.sent
        and probe.sent + probe.took < report.restoring_at
    ]
    during = [
        (round(p.sent - report.fault_at, 2), round(p.took, 2), p.path, p.status)
        for p in report.probes
        if report.fault_at <= p.sent < report.restored_at and p.path != "/health"
    ]
    assert late, f"no {path} probe answered during the outage: {during}"
    assert all(_reflects_outage(report.kind, probe.status, probe.body) for probe in late), late


def _reflects_outage(kind: str, status: int, body: dict[str, object]) -> bool:
    if kind.startswith("postgres"):
        return status == 503  # the database is critical: not ready
    checks = body.get("checks")  # Redis fails open by default: ready, and shown degraded
    if not isinstance(checks, list):
        return status == 503
    redis = [c for c in checks if isinstance(c, dict) and c.get("name") == "redis"]
    return bool(redis) and (redis[0].get("status") != "pass" or bool(redis[0].get("degraded")))


def test_the_service_recovers_within_10_seconds_without_a_restart(report: Report) -> None:
    assert report.recovered_at is not None, "never recovered"
    assert report.recovered_at - report.restored_at <= RECOVER_WITHIN


def test_no_acknowledged_write_is_lost(report: Report) -> None:
    assert report.acknowledged, "no write succeeded"
    expected = {**report.written_before, **report.acknowledged}
    assert report.stored == expected


def test_every_request_is_answered_while_the_dependency_is_out(report: Report) -> None:
    slowest = max(report.during_outage(), key=lambda answer: answer.took)
    assert NO_ANSWER not in report.statuses()
    assert slowest.took <= ANSWER_WITHIN, slowest


def test_a_failed_cache_fill_does_not_stall_the_next_reader(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    redis = RedisServer()
    redis.start()
    try:
        with postgres_server() as postgres:
            app = _app(new_database(postgres), redis.url, tmp_path_factory.mktemp("fill"))
            took = asyncio.run(_two_reads_while_the_database_is_down(app, postgres))
    finally:
        redis.close()
    assert all(status == 503 for status, _ in took), took
    assert all(seconds < 2.0 for _, seconds in took), took


async def _two_reads_while_the_database_is_down(
    app: FastAPI, postgres: PostgresServer
) -> list[tuple[int, float]]:
    took: list[tuple[int, float]] = []
    async with client_for(app, startup_timeout=30.0) as client:
        await asyncio.to_thread(postgres.kill)
        for _ in range(2):
            started = time.monotonic()
            response = await client.get("/scale/items/cold")  # never cached: a fill each time
            took.append((response.status_code, time.monotonic() - started))
    return took
