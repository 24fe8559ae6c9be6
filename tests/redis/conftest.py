"""Fixtures for faster-redis's tests: a clean environment, and each backend (memory, server)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from faster_redis.testing import RedisServer


@pytest.fixture(autouse=True)
def _no_faster_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests start from no FASTER_* variables and an empty working directory (no `.env`)."""
    for name in list(os.environ):
        if name.startswith("FASTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["memory", "server", "cluster"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Plugin settings for the in-process stand-in, the session's real server, then the
    session's real 3-master Redis Cluster."""
    if request.param == "memory":
        return {"url": "memory://"}
    fixture = "redis_test_settings" if request.param == "server" else "redis_cluster_test_settings"
    settings: dict[str, Any] = request.getfixturevalue(fixture)
    # Feature tests, not outage tests (those use `fault_settings`): on a loaded CI machine a
    # slow reply must not open the breaker and turn a limit or a lock into its failure policy.
    return {**settings, "socket_timeout": 5.0}


@pytest.fixture
def fault_settings(redis_fault_server: RedisServer) -> dict[str, Any]:
    """Short timeouts on a server of the test's own (for kill / freeze tests)."""
    return {
        "url": redis_fault_server.url,
        "socket_timeout": 0.25,
        "connect_timeout": 0.25,
        "circuit_reset_timeout": 0.5,
        "startup_retries": 0,
    }
