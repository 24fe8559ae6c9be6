"""Revocation and ban across 4 uvicorn worker processes: one server on loopback, real HTTP.

A SQLite file is the database; the Redis variant adds a real redis-server. Every worker first
answers (and caches) that the token is valid; after a logout (the token's `jti`) or a ban made
through one worker, 1,000 probes sent from 1 s after the call are all refused, by all 4 workers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import faster_auth.plugin
import faster_db.plugin
from faster_core import FasterSettings, create_app
from faster_core.testing import client_for
from tests.auth.app_kit import protected_router
from tests.auth.test_accounts import login, register
from tests.auth.test_guard_revocation import guard_app

pytestmark = pytest.mark.anyio

WORKERS = 4
PROBES = 1000
ROOT = Path(__file__).parents[2]


class WorkerPid:
    """Names the worker process in a response header (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_pid(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-worker-pid", self.pid)]
            await send(message)

        await self.app(scope, receive, send_with_pid)


def worker_app() -> FastAPI:
    """The app each uvicorn worker serves (`--factory`), configured by FASTER_PLUGIN_SETTINGS."""
    settings = FasterSettings(_env_file=None)
    plugins: list[object] = [faster_db.plugin, faster_auth.plugin]
    if "redis" in settings.plugin_settings:
        import faster_redis.plugin

        plugins.insert(1, faster_redis.plugin)
    app = create_app(settings, plugins=plugins, load_entrypoints=False)
    app.include_router(protected_router())
    app.add_middleware(WorkerPid)
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def uvicorn_workers(plugin_settings: dict[str, Any], log: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FASTER_")},
        "FASTER_ENV": "test",
        "FASTER_PLUGIN_SETTINGS": json.dumps(plugin_settings),
    }
    command = [
        sys.executable, "-m", "uvicorn", "tests.auth.test_guard_workers:worker_app",
        "--factory", "--workers", str(WORKERS), "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--no-proxy-headers", "--app-dir", str(ROOT),
        # A loaded CI machine can take longer than uvicorn's 5 s to answer a health check.
        "--timeout-worker-healthcheck", "30",
    ]  # fmt: skip
    with log.open("wb") as output:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def probe(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, str]:
    response = await client.get("/me", headers=headers)
    return response.status_code, response.headers.get("x-worker-pid", "")


async def probes(
    client: httpx.AsyncClient, headers: dict[str, str], count: int
) -> list[tuple[int, str]]:
    limit = asyncio.Semaphore(32)

    async def one() -> tuple[int, str]:
        async with limit:
            return await probe(client, headers)

    return list(await asyncio.gather(*(one() for _ in range(count))))


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def every_worker_accepts(
    client: httpx.AsyncClient, headers: dict[str, str], log: Path
) -> None:
    """Wait until the server is up and each of the 4 workers has accepted (and cached) the
    token."""
    deadline = time.monotonic() + 45
    seen: set[str] = set()
    while len(seen) < WORKERS:
        assert time.monotonic() < deadline, f"workers seen: {seen}\n{tail(log)}"
        try:
            results = await probes(client, headers, 64)
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        assert {status for status, _ in results} == {200}, results[:3]
        seen |= {pid for _, pid in results}


async def refused_everywhere_within_a_second(
    client: httpx.AsyncClient, headers: dict[str, str], called_at: float
) -> None:
    early = await probes(client, headers, 50)  # right after the call: any answer but a 5xx
    assert all(status in (200, 401) for status, _ in early), early
    await asyncio.sleep(max(0.0, called_at + 1.0 - time.monotonic()))
    results = await probes(client, headers, PROBES)
    statuses = [status for status, _ in results]
    assert statuses.count(401) == PROBES, {s: statuses.count(s) for s in set(statuses)}
    assert len({pid for _, pid in results}) == WORKERS


@pytest.fixture(params=["database", "redis"])
def plugin_settings(
    request: pytest.FixtureRequest, tmp_path: Path, private_pem: str
) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "db": {"url": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", "auto_migrate": False},
        "auth": {"private_key": private_pem},
    }
    if request.param == "redis":
        pytest.importorskip("faster_redis", reason="faster-redis is not installed")
        settings["redis"] = request.getfixturevalue("redis_test_settings")
    return settings


async def test_logout_and_ban_reach_all_four_workers_within_a_second(
    plugin_settings: dict[str, Any], tmp_path: Path, private_pem: str
) -> None:
    # Migrate, create the accounts and mint the tokens once, in this process.
    setup = guard_app(tmp_path / "app.db", private_pem, plugin_settings.get("redis"))
    async with client_for(setup) as local:
        await register(local, "ada@example.com")
        banned_id = (await register(local, "bob@example.com")).json()["id"]
        ada = (await login(local, "ada@example.com")).json()
        bob = (await login(local, "bob@example.com")).json()["access_token"]
        admin = setup.state.auth.issuer.issue("an-admin", roles=["admin"])
    ada_headers = {"Authorization": f"Bearer {ada['access_token']}"}
    bob_headers = {"Authorization": f"Bearer {bob}"}
    admin_headers = {"Authorization": f"Bearer {admin}"}
    log = tmp_path / "uvicorn.log"
    # A connection per request: the kernel spreads new connections over the workers, while
    # kept-alive ones would stick to whichever worker accepted them first.
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=0)
    with uvicorn_workers(plugin_settings, log) as url:
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
            await every_worker_accepts(client, ada_headers, log)
            await every_worker_accepts(client, bob_headers, log)

            body = {"refresh_token": ada["refresh_token"]}
            logout = await client.post("/auth/logout", json=body, headers=ada_headers)
            called = time.monotonic()  # the revocation is committed when the call returns
            assert logout.status_code == 204, logout.text
            await refused_everywhere_within_a_second(client, ada_headers, called)

            await asyncio.sleep(1.01)  # `iat` has whole seconds; tokens of that second pass
            ban = await client.post(f"/auth/admin/users/{banned_id}/ban", headers=admin_headers)
            called = time.monotonic()
            assert ban.status_code == 204, ban.text
            await refused_everywhere_within_a_second(client, bob_headers, called)
