"""`faster run` with nothing configured: the default app a newcomer meets first (issue 7).

One real `faster run` subprocess for the module, on a free 127.0.0.1 port, in an empty working
directory, with no FASTER_* variable: every installed plugin on its embedded defaults (SQLite
file, in-process Redis stand-in, local accounts, console logs).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PASSWORD = "correct horse battery staple"
STARTUP_TIMEOUT = 60.0


@dataclass
class Demo:
    url: str
    workdir: Path
    log: Path
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _faster_command() -> list[str]:
    script = Path(sys.executable).with_name("faster")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from faster_core.cli import main; main()"]


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FASTER_")}


def _wait_until_live(demo: Demo) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if demo.process.poll() is not None:
            pytest.fail(
                f"faster run exited with {demo.process.returncode}:\n{demo.log.read_text()}"
            )
        try:
            if httpx.get(f"{demo.url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"faster run did not answer within {STARTUP_TIMEOUT}s:\n{demo.log.read_text()}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo")
    log = workdir.parent / f"{workdir.name}.log"
    port = _free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*_faster_command(), "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=_clean_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Demo(f"http://127.0.0.1:{port}", workdir, log, process)
    try:
        _wait_until_live(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def client(demo: Demo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.url, timeout=30) as client:
        yield client


def _register(client: httpx.Client) -> str:
    email = f"newcomer-{uuid.uuid4().hex[:8]}@example.com"
    registered = client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    return email


def test_every_installed_plugin_runs_on_embedded_defaults(demo: Demo, client: httpx.Client) -> None:
    listed = subprocess.run(
        [*_faster_command(), "plugins", "--json"],
        cwd=demo.workdir,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    health = client.get("/health")
    checks = {check["name"]: check for check in health.json()["checks"]}

    assert {"db", "auth", "redis", "observability"} <= set(plugins)
    assert all(p["state"] == "enabled" for p in plugins.values())
    assert health.status_code == 200
    assert checks["db"]["status"] == checks["redis"]["status"] == "pass"
    assert (demo.workdir / "faster.db").is_file()  # the SQLite file, in the working directory
    assert "memory://" in demo.log.read_text()  # the in-process Redis stand-in
    assert client.get("/-/plugins").status_code == 404  # debug surfaces stay off


def test_a_newcomer_registers_logs_in_and_calls_a_protected_route(client: httpx.Client) -> None:
    email = _register(client)
    login = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    token = login.json()["access_token"]

    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    anonymous = client.get("/auth/me")

    assert login.status_code == 200
    assert me.status_code == 200
    assert me.json()["email"] == email
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


def test_swaggers_authorize_logs_in_with_the_documented_password_form(
    client: httpx.Client,
) -> None:
    email = _register(client)
    docs = client.get("/docs")
    schema = client.get("/openapi.json").json()
    (scheme,) = schema["components"]["securitySchemes"].values()
    token_url = scheme["flows"]["password"]["tokenUrl"]

    # What Swagger UI's Authorize dialog sends: the OAuth2 password grant as a form.
    form = client.post(
        token_url, data={"grant_type": "password", "username": email, "password": PASSWORD}
    )
    token = form.json()["access_token"]
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert scheme["type"] == "oauth2"
    assert schema["paths"]["/auth/me"]["get"]["security"]
    assert form.status_code == 200
    assert form.json()["token_type"] == "bearer"
    assert me.json()["email"] == email


def test_health_and_metrics_are_served(client: httpx.Client) -> None:
    live = client.get("/health/live")
    ready = client.get("/health/ready")
    client.get("/auth/me")  # one 401, to be counted
    metrics = client.get("/metrics")

    assert (live.status_code, ready.status_code) == (200, 200)
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="GET",route="/auth/me",status_class="4xx"}' in metrics.text


def test_logs_go_to_the_console(demo: Demo, client: httpx.Client) -> None:
    client.get("/health/live", headers={"X-Request-ID": "demo-log-check"})

    deadline = time.monotonic() + 5
    while "demo-log-check" not in demo.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(line for line in demo.log.read_text().splitlines() if "demo-log-check" in line)

    assert "/health/live" in line
    assert not line.lstrip().startswith("{")  # development: the readable console renderer
