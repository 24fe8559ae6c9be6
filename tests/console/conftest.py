"""Fixtures for the developer console's tests: the default `faster run` app served by a real
uvicorn on a loopback port, and headless Chromium (Debian's `chromium`) driven by Playwright.

Browser tests skip, saying why, when Playwright or a Chromium binary is missing; nothing here
ever downloads a browser.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.console.browser_kit import LOOPBACK, ConsoleServer, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Playwright, Request, Route

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env(**settings: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FASTER_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(settings)
    return env


def _wait_until_live(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"faster run exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/health/live", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"faster run did not answer within 45 s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """`faster run` in an empty temporary directory (its SQLite file and the generated auth key
    land there), debug on, development environment, nothing else configured."""
    workdir = tmp_path_factory.mktemp("console-app")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    command = [sys.executable, "-c", "from faster_core.cli import main; main()"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=_server_env(FASTER_DEBUG="true", FASTER_ENV="development"),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_live(process, base_url, log)
        yield ConsoleServer(base_url, workdir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def overview(console_server: ConsoleServer) -> dict[str, Any]:
    with console_server.client() as client:
        response = client.get("/-/console/api/overview")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test app's uvicorn server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _chromium() -> str | None:
    configured = os.environ.get("FASTER_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


# Per test, not per session: while the sync API is open its event loop counts as running in
# this thread, and the suite's anyio tests (in any order) need to start loops of their own.
@pytest.fixture
def playwright_session() -> Iterator[Playwright]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the Python package 'playwright' is not installed"
    )
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        missing = (
            "no Chromium binary: install Debian's 'chromium' (or set FASTER_TEST_CHROMIUM); "
            "the tests never download a browser"
        )
        if os.environ.get("FASTER_TEST_REQUIRE_BROWSER"):  # CI installed one: its absence fails
            pytest.fail(missing)
        pytest.skip(missing)
    playwright: Playwright = request.getfixturevalue("playwright_session")
    browser = playwright.chromium.launch(executable_path=executable)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: `FASTER_TEST_ARTIFACTS`, else a pytest temporary directory."""
    configured = os.environ.get("FASTER_TEST_ARTIFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("console-artifacts")
    folder = folder / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def console_page(browser: Browser, console_server: ConsoleServer) -> Iterator[Watched]:
    """A fresh browser context on the default app's console; see `watched_page`."""
    with watched_page(browser, console_server.base_url) as watched:
        yield watched


@contextmanager
def watched_page(browser: Browser, base_url: str) -> Iterator[Watched]:
    """A fresh browser context on the console at `base_url`; at the end no console error
    happened and no request left loopback (such requests are also refused, so none reaches
    the network)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    watched = Watched(page, base_url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(message.text)

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)

    def guard(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith("http") and host not in LOOPBACK:
            watched.refused.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error}"))
    page.on("request", on_request)
    page.route("**/*", guard)
    try:
        yield watched
        non_loopback = [
            url for url in watched.requests if (urlsplit(url).hostname or "") not in LOOPBACK
        ]
        assert watched.errors == []
        assert non_loopback == []
        assert watched.refused == []
    finally:
        context.close()
