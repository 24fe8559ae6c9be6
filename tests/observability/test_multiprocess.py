"""Multi-process metrics: two real uvicorn workers sharing PROMETHEUS_MULTIPROC_DIR
(faster_observability/metrics.py). Traffic goes to 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from faster_observability.testing import parse_metrics

ROOT = Path(__file__).parents[2]
REQUESTS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    """A `uvicorn --workers 2` server of the demo app in multi-process mode; its base URL."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FASTER_")},
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "FASTER_ENV": "test",
        "FASTER_OBSERVABILITY_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable, "-m", "uvicorn", "tests.observability.apps:multiprocess_app",
        "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
        "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(server.stderr.read().decode() if server.stderr else "exited")
        try:
            if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("uvicorn did not start within 30 s")


def test_two_workers_scrape_totals_equal_requests_sent(two_workers: str) -> None:
    def one(_: int) -> int:
        # A new connection each time, so that both workers take requests.
        with httpx.Client(base_url=two_workers, timeout=10) as client:
            response = client.get("/pid")
            assert response.status_code == 200
            return int(response.json()["pid"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        pids = set(pool.map(one, range(REQUESTS)))

    assert len(pids) == 2  # both workers answered
    totals = []
    for _ in range(4):  # each scrape lands on either worker; all must agree
        with httpx.Client(base_url=two_workers, timeout=10) as client:
            snapshot = parse_metrics(client.get("/metrics").text)
        totals.append(
            snapshot.value("http_requests_total", method="GET", route="/pid", status_class="2xx")
        )
    assert totals == [REQUESTS] * 4
