"""The `faster` command line through its real entry point, in subprocesses
(faster_core/cli.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.core.conftest import InstallPlugin
from tests.core.plugin_kit import plugin_source

FASTER = str(Path(sys.executable).with_name("faster"))

COMMAND_PLUGIN = """
import click
from faster_core import PluginInfo, hookimpl

@hookimpl
def faster_plugin_info():
    return PluginInfo("greeter", "3.1.4")

@hookimpl
def faster_cli_commands(host):
    @click.command()
    @click.argument("name")
    def hello(name):
        '''Greet NAME.'''
        click.echo(f"hello {name} from {host.settings.env}")
    return [hello]
"""


def run_cli(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 - callers assert on the exit code
        [FASTER, *args], capture_output=True, text=True, cwd=cwd, env=_env(cwd, env), timeout=60
    )


def _env(site: Path | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FASTER_")}
    clean.pop("PYTHONPATH", None)
    return {**clean, **({"PYTHONPATH": str(site)} if site else {}), **(extra or {})}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, *, expect: str | None = None, timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(url, timeout=2)
            if expect is None or expect in response.text:
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{url} did not answer{' with ' + expect if expect else ''} in time"
            )
        time.sleep(0.1)


@contextmanager
def serving(*args: str, cwd: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [FASTER, "run", *args, "--port", str(port), "--log-level", "warning"],
        cwd=cwd,
        env=_env(None),  # APP is found from the working directory, as a user runs it
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("faster, version ")


def test_plugins_lists_builtins_and_installed_plugins(
    install_plugin: InstallPlugin, site_dir: Path
) -> None:
    install_plugin("sample", plugin_source("sample"), version="2.5.0")
    install_plugin("unwanted", plugin_source("unwanted"))

    table = run_cli("plugins", cwd=site_dir, env={"FASTER_DISABLED_PLUGINS": "unwanted"})
    described = json.loads(run_cli("plugins", "--json", cwd=site_dir).stdout)

    assert table.returncode == 0, table.stderr
    lines = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    order = {p["name"]: p["order"] for p in described}
    # Entry points come after the built-ins, by name; other installed plugins may sit between.
    assert order["errors"] == 0
    assert order["sample"] > order["introspection"]
    assert lines["sample"][1:4] == ["2.5.0", "enabled", str(order["sample"])]
    assert lines["unwanted"][2] == "disabled"
    assert lines["errors"][2:4] == ["enabled", "0"]
    assert set(order) >= {"errors", "http", "health", "introspection", "sample"}


def test_routes_lists_the_default_apps_routes(tmp_path: Path) -> None:
    result = run_cli("routes", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    paths = {line.split()[1] for line in result.stdout.splitlines()[1:]}
    assert {"/health/live", "/health/ready", "/health", "/docs"} <= paths


def test_check_passes_on_defaults_and_fails_naming_the_reason(tmp_path: Path) -> None:
    ok = run_cli("check", cwd=tmp_path)
    unsafe = run_cli("check", cwd=tmp_path, env={"FASTER_ENV": "production", "FASTER_DEBUG": "1"})
    invalid = run_cli("check", cwd=tmp_path, env={"FASTER_ENV": "moon"})

    assert ok.returncode == 0
    assert ok.stdout.startswith("ok: env development")
    assert unsafe.returncode == 1
    assert "FASTER_DEBUG is true in production" in unsafe.stderr
    assert invalid.returncode == 1
    assert "env" in invalid.stderr
    assert "Traceback" not in unsafe.stderr + invalid.stderr


def test_check_names_a_plugin_that_fails_to_import(
    install_plugin: InstallPlugin, site_dir: Path
) -> None:
    install_plugin("broken", "raise ImportError('missing native library')\n")

    result = run_cli("check", cwd=site_dir)

    assert result.returncode == 1
    assert "'broken'" in result.stderr
    assert "missing native library" in result.stderr


def test_plugins_add_their_own_commands(install_plugin: InstallPlugin, site_dir: Path) -> None:
    install_plugin("greeter", COMMAND_PLUGIN)

    result = run_cli("hello", "ada", cwd=site_dir, env={"FASTER_ENV": "staging"})
    helped = run_cli("--help", cwd=site_dir)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello ada from staging"
    assert "hello" in helped.stdout


APP_MODULE = """
import click
from faster_core import FasterSettings, PluginInfo, create_app, hookimpl


class Shelf:
    @hookimpl
    def faster_plugin_info(self):
        return PluginInfo("shelf", "0.3.0")

    @hookimpl
    def faster_cli_commands(self, host):
        @click.command()
        def stock():
            click.echo(f"stock of {host.settings.title}")
        return [stock]


def create():
    return create_app(FasterSettings(title="Shop"), plugins=[Shelf()], load_entrypoints=False)


app = create()
"""


@pytest.mark.parametrize("target", ["shop:create", "shop:app"])
def test_app_option_uses_the_plugins_an_app_passes_to_create_app(
    tmp_path: Path, target: str
) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "shop.py").write_text(APP_MODULE)
    app_dir = str(tmp_path / "project")

    listed = run_cli("--app", target, "--app-dir", app_dir, "plugins", "--json", cwd=tmp_path)
    command = run_cli("stock", cwd=tmp_path / "project", env={"FASTER_APP": target})
    checked = run_cli("--app", target, "--app-dir", app_dir, "check", cwd=tmp_path)
    without = run_cli("stock", cwd=tmp_path / "project")

    assert listed.returncode == 0, listed.stderr
    assert "shelf" in {p["name"] for p in json.loads(listed.stdout)}
    assert command.returncode == 0, command.stderr
    assert command.stdout.strip() == "stock of Shop"
    assert checked.returncode == 0, checked.stderr
    assert "shelf" in checked.stdout
    assert without.returncode == 2
    assert "No such command 'stock'" in without.stderr


def test_app_option_refuses_what_is_not_a_faster_app(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")

    result = run_cli("--app", "plain:app", "plugins", cwd=tmp_path)

    assert result.returncode == 2
    assert "not an app made by create_app" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_no_app_serves_health_and_docs(tmp_path: Path) -> None:
    with serving(cwd=tmp_path) as (base, _):
        ready = wait_for(f"{base}/health/ready")
        docs = httpx.get(f"{base}/docs")

    assert ready.status_code == 200
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


APP_SOURCE = """
from fastapi import APIRouter
from faster_core import FasterSettings, PluginInfo, create_app, hookimpl

class Version:
    @hookimpl
    def faster_plugin_info(self):
        return PluginInfo("version")

    @hookimpl
    def faster_routers(self):
        router = APIRouter()

        @router.get("/version")
        async def version():
            return {{"version": "{version}"}}

        return [router]

app = create_app(FasterSettings(_env_file=None), plugins=[Version()], load_entrypoints=False)
"""


def test_run_reload_restarts_on_code_change(tmp_path: Path) -> None:
    module = tmp_path / "reloadable.py"
    module.write_text(APP_SOURCE.format(version="one"))

    with serving("reloadable:app", "--reload", cwd=tmp_path) as (base, _):
        assert wait_for(f"{base}/version").json() == {"version": "one"}
        time.sleep(0.5)  # let the file watcher take its first snapshot
        module.write_text(APP_SOURCE.format(version="two"))
        assert wait_for(f"{base}/version", expect="two").json() == {"version": "two"}


def test_run_workers_starts_that_many_processes(tmp_path: Path) -> None:
    (tmp_path / "served.py").write_text(APP_SOURCE.format(version="w"))

    with serving("served:app", "--workers", "2", cwd=tmp_path) as (base, process):
        wait_for(f"{base}/version")
        children = _children(process.pid)
        deadline = time.monotonic() + 20
        while len(children) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            children = _children(process.pid)
        for _ in range(20):
            assert httpx.get(f"{base}/version").status_code == 200

    assert len(children) >= 2


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("this platform does not expose /proc children")
    workers = []
    for child in path.read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"multiprocessing" in cmdline or b"spawn" in cmdline:
            workers.append(int(child))
    return workers
