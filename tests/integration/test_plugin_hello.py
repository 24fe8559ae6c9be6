"""A third-party plugin (examples/plugin-hello), installed for real, behaves like our own packages.

faster-hello is installed once per session with `pip install --no-deps --target <dir>`, never into
the test environment; every check runs in a subprocess with that folder on PYTHONPATH, so
`importlib.metadata` finds its `faster` entry point exactly as after a `pip install`. Each
subprocess starts from no FASTER_* variables, in a temporary working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "plugin-hello"
TIMEOUT = 120


@pytest.fixture(scope="session")
def hello_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding faster-hello as pip installed it (package and .dist-info)."""
    target = tmp_path_factory.mktemp("hello-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-input",
            "--quiet",
            "--target",
            str(target),
            str(HELLO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (target / "faster_hello" / "plugin.py").is_file()
    return target


def _environment(site: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    return env | variables


def _faster(
    site: Path, cwd: Path, *args: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("faster")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from faster_core.cli import main; main()"]
    )
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=_environment(site, **variables),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _plugins(site: Path, cwd: Path, **variables: str) -> dict[str, dict[str, Any]]:
    listed = _faster(site, cwd, "plugins", "--json", **variables)
    assert listed.returncode == 0, listed.stderr
    return {p["name"]: p for p in json.loads(listed.stdout)}


def _probe(site: Path, cwd: Path, **variables: str) -> dict[str, Any]:
    report = cwd / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration._examples_hello_probe", str(report)],
        cwd=cwd,
        env=_environment(site, **variables),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(report.read_text())
    return result


@pytest.fixture(scope="module")
def listed(hello_site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`faster plugins --json` with nothing configured."""
    return _plugins(hello_site, tmp_path_factory.mktemp("listed"))


@pytest.fixture(scope="module")
def report(hello_site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The default app (every installed plugin) with `FASTER_HELLO_GREETING=Howdy`."""
    return _probe(hello_site, tmp_path_factory.mktemp("probe"), FASTER_HELLO_GREETING="Howdy")


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["health"]["checks"]}


def test_it_is_discovered_and_enabled_from_its_entry_point(listed: dict[str, Any]) -> None:
    hello = listed["hello"]
    assert (hello["version"], hello["source"], hello["state"]) == (
        "0.1.0",
        "entry point",
        "enabled",
    )
    assert (hello["requires"], hello["after"]) == ([], ["auth"])
    assert {
        "faster_lifespan",
        "faster_routers",
        "faster_health_checks",
        "faster_auth_user_created",
        "faster_auth_user_signed_in",
    } <= set(hello["hooks"])
    assert all(p["state"] == "enabled" for p in listed.values())


def test_it_is_ordered_after_auth_as_it_declares(
    listed: dict[str, Any], hello_site: Path, tmp_path: Path
) -> None:
    without_auth = _plugins(hello_site, tmp_path, FASTER_DISABLED_PLUGINS="auth")

    assert listed["hello"]["order"] > listed["auth"]["order"]
    # `after` is soft: without auth, hello keeps its place in discovery order (entry points by
    # name), ahead of the installed plugins whose names sort after "hello".
    later_names = [
        name
        for name, p in without_auth.items()
        if p["source"] == "entry point" and name > "hello" and p["state"] == "enabled"
    ]
    assert later_names, "the suite's observability and redis plugins are installed"
    assert all(without_auth["hello"]["order"] < without_auth[n]["order"] for n in later_names)


def test_the_app_serves_its_route_health_and_lifespan_and_reads_its_settings(
    report: dict[str, Any],
) -> None:
    assert report["order"].index("hello") > report["order"].index("auth")
    assert report["greeting"] == {"status": 200, "body": {"message": "Howdy, ada!"}}
    check = _checks(report)["hello"]
    assert (check["status"], check["critical"]) == ("pass", False)
    assert report["guestbook"]["started_at"] > 0  # the lifespan made the guestbook
    assert report["shut_down"] is True  # and dropped it at shutdown


def test_its_auth_event_handlers_run_when_auth_fires_the_events(report: dict[str, Any]) -> None:
    assert report["guestbook"]["guests"] == [report["signed_up"]]
    assert report["guestbook"]["sign_ins"] == 1


def test_disabling_it_by_name_removes_it_everywhere(hello_site: Path, tmp_path: Path) -> None:
    plugins = _plugins(hello_site, tmp_path, FASTER_DISABLED_PLUGINS="hello")
    report = _probe(hello_site, tmp_path, FASTER_DISABLED_PLUGINS="hello")

    assert (plugins["hello"]["state"], plugins["hello"]["order"]) == ("disabled", None)
    assert "hello" not in report["order"]
    assert report["greeting"]["status"] == 404
    assert "hello" not in _checks(report)
    assert report["shut_down"] is None


def test_it_runs_without_the_auth_plugin_whose_events_it_handles(
    hello_site: Path, tmp_path: Path
) -> None:
    report = _probe(hello_site, tmp_path, FASTER_PLUGINS="hello")

    assert "auth" not in report["order"]
    assert report["greeting"]["body"] == {"message": "Hello, ada!"}
    assert report["guestbook"]["guests"] == []
    assert report["shut_down"] is True


def test_an_invalid_setting_stops_start_up_naming_it(hello_site: Path, tmp_path: Path) -> None:
    checked = _faster(hello_site, tmp_path, "check", FASTER_HELLO_GUESTBOOK_SIZE="0")

    assert checked.returncode != 0
    assert "guestbook_size" in checked.stdout + checked.stderr
