"""Acceptance mode: a real uvicorn worker pinned to core 0, driven by `wrk` pinned to core 1.

Each run starts a fresh server on a free 127.0.0.1 port, warms it up, measures req/s with wrk and
the server's CPU time per request from /proc, and stops it. Repetitions alternate the variants;
the medians are compared with each variant's baseline. wrk is a closed loop at saturation, so no
latency percentiles are reported (they would measure the queue, not the code).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from benchmarks.gcprobe import APP_VARIABLE, LOG_VARIABLE
from benchmarks.harness import BENCH_PATH, Variant

__all__ = [
    "HOST",
    "ServerResult",
    "cpu_seconds",
    "missing_tools",
    "run_server",
    "serving",
    "wrk",
]

HOST = "127.0.0.1"  # the only address this mode ever sends traffic to
ROOT = Path(__file__).resolve().parent.parent
WARMUP_SECONDS = 2
READY_TIMEOUT = 60.0  # a loaded shared machine starts the full stack slowly
WRK_TIMEOUT = 10
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class ServerResult:
    variant: Variant
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    """Server CPU (user + system) µs per request, one per run."""

    @property
    def median_rps(self) -> float:
        return statistics.median(self.rps)

    @property
    def median_cpu_us(self) -> float:
        return statistics.median(self.cpu_us)


def missing_tools() -> list[str]:
    return [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]


def run_server(
    variants: Sequence[Variant], *, repeats: int, duration: int, concurrency: int
) -> list[ServerResult]:
    """`repeats` runs of every variant, alternating; a fresh server each run."""
    results = [ServerResult(v) for v in variants]
    pin_wrk = (os.cpu_count() or 1) > 1
    for rep in range(1, repeats + 1):
        for result in results:
            rps, cpu_us = _one_run(result.variant, duration, concurrency, pin_wrk=pin_wrk)
            result.rps.append(rps)
            result.cpu_us.append(cpu_us)
            print(
                f"  run {rep}/{repeats} {result.variant.name:<28} {rps:>10,.0f} req/s"
                f"  {cpu_us:6.1f} µs CPU/request",
                flush=True,
            )
    return results


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _one_run(
    variant: Variant, duration: int, concurrency: int, *, pin_wrk: bool
) -> tuple[float, float]:
    with serving(variant) as (pid, port):
        wrk(variant, port, WARMUP_SECONDS, concurrency, pin_wrk=pin_wrk, strict=False)
        cpu_before = cpu_seconds(pid)
        requests, seconds = wrk(variant, port, duration, concurrency, pin_wrk=pin_wrk)
        cpu = cpu_seconds(pid) - cpu_before
    return requests / seconds, cpu * 1e6 / requests


@contextmanager
def serving(variant: Variant, *, gc_log: str | None = None) -> Iterator[tuple[int, int]]:
    """A fresh uvicorn worker for `variant` pinned to core 0 on a free 127.0.0.1 port, ready to
    answer; yields `(pid, port)` and stops it on exit. With `gc_log`, the worker logs its full
    garbage collections there (`benchmarks.gcprobe`)."""
    port = _free_port()
    probe = {} if gc_log is None else {APP_VARIABLE: variant.import_path, LOG_VARIABLE: gc_log}
    command = [
        "taskset",
        "-c",
        "0",
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.gcprobe:serve" if probe else variant.import_path,
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **probe,
    }
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            _wait_ready(server, variant, port, log)
            yield server.pid, port
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_ready(
    server: subprocess.Popen[bytes], variant: Variant, port: int, log: IO[bytes]
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"the server exited with {server.returncode}:\n{output}")
        connection = http.client.HTTPConnection(HOST, port, timeout=1)
        try:
            headers = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in variant.request_headers
                if k != b"host"
            }
            connection.request("GET", BENCH_PATH, headers=headers)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"the server did not answer on {HOST}:{port} within {READY_TIMEOUT:g} s")


def wrk(
    variant: Variant,
    port: int,
    duration: int,
    concurrency: int,
    *,
    pin_wrk: bool,
    strict: bool = True,
) -> tuple[int, float]:
    """Run wrk; return (requests, seconds). Any error or non-2xx answer fails the run when
    `strict` (a warm-up is not: a loaded machine may stall a cold server past wrk's timeout).
    A request slower than `WRK_TIMEOUT` counts as an error."""
    headers = [
        arg
        for key, value in variant.request_headers
        if key != b"host"  # wrk sends the Host it connects to
        for arg in ("-H", f"{key.decode('latin-1')}: {value.decode('latin-1')}")
    ]
    command = [
        *(["taskset", "-c", "1"] if pin_wrk else []),
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{duration}s",
        f"--timeout={WRK_TIMEOUT}s",
        *headers,
        f"http://{HOST}:{port}{BENCH_PATH}",
    ]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
    if done is None or (strict and ("Non-2xx" in out or "Socket errors" in out)):
        raise RuntimeError(f"wrk reported a problem for {variant.name!r}:\n{out}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[done.group(3)]
    return int(done.group(1)), float(done.group(2)) * scale


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (the server: taskset execs into it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS
