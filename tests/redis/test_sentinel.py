"""`redis+sentinel://`: the client asks a real Sentinel for the master
(faster_redis/connection.py)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from faster_core import ConfigurationError, PluginStartupError
from faster_core.testing import client_for
from faster_redis.connection import create_client
from faster_redis.settings import RedisSettings
from faster_redis.testing import RedisServer, free_port
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def sentinel(redis_fault_server: RedisServer, tmp_path: Path) -> Iterator[int]:
    """A Sentinel on a free port monitoring the test's server as `mymaster`."""
    port = free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {redis_fault_server.port} 1\n"
    )
    process = subprocess.Popen(
        [redis_fault_server.binary, str(config), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, socket_timeout=0.2).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        process.kill()
        process.wait(timeout=10)


async def test_master_is_found_through_sentinel(sentinel: int) -> None:
    app = build_app({"url": f"redis+sentinel://127.0.0.1:{sentinel}/mymaster/0"})
    async with client_for(app) as client:
        service = app.state.faster_redis
        await service.cache.set("via", "sentinel")
        assert await service.cache.get("via") == (True, "sentinel")
        health = await client.get("/health")
    assert health.json()["status"] == "pass"


async def test_unknown_service_stops_start_up(sentinel: int) -> None:
    app = build_app({"url": f"redis+sentinel://127.0.0.1:{sentinel}/nosuch", "startup_retries": 0})
    with pytest.raises(PluginStartupError, match="'redis'"):
        async with client_for(app):
            pass


def test_sentinel_url_needs_a_service_name() -> None:
    settings = RedisSettings(_env_file=None, url="redis+sentinel://127.0.0.1:26379")
    with pytest.raises(ConfigurationError, match="service name"):
        create_client(settings)


def test_sentinel_url_password_is_lifted() -> None:
    settings = RedisSettings(
        _env_file=None, url="redis+sentinel://:p%40ss@10.0.0.1:26379,10.0.0.2:26380/main"
    )
    assert settings.url == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/main"
    assert settings.password is not None
    assert settings.password.get_secret_value() == "p@ss"
