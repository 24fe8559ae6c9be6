"""The app factory and the plugin's contract (app.py, plugin.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect

import faster_auth.plugin
import faster_db.plugin
from examples.notes import NotesPlugin, NotesSettings, create
from faster_core import FasterSettings, PluginRequirementError
from faster_core.testing import client_for
from faster_db import Database

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.anyio
async def test_the_factory_serves_notes_with_the_installed_plugins(tmp_path: Path) -> None:
    """What `faster run examples.notes.app:create --factory` serves, in development."""
    app = create(
        FasterSettings(
            _env_file=None,
            plugin_settings={"db": {"url": f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"}},
        )
    )
    async with client_for(app) as client:
        ready = await client.get("/health/ready")
        paths = (await client.get("/openapi.json")).json()["paths"]
        anonymous = await client.get("/notes")
        database: Database = app.state.db
        async with database.primary.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())

    assert ready.status_code == 200
    assert {"/notes", "/notes/{note_id}", "/notes/export", "/admin/notes/activity"} <= set(paths)
    assert anonymous.status_code == 401
    # SQLite in development: every plugin's branch, the notes one included, migrated at start-up.
    assert {"notes", "note_events", "faster_auth_users"} <= set(tables)


def test_the_plugin_names_the_plugins_it_requires(
    faster_app_factory: Callable[..., FastAPI],
) -> None:
    with pytest.raises(PluginRequirementError, match=r"'notes' requires 'redis'"):
        faster_app_factory(faster_db.plugin, faster_auth.plugin, NotesPlugin())


def test_its_settings_come_from_faster_notes_variables(
    notes_app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASTER_NOTES_WRITE_LIMIT", "7/minute")
    monkeypatch.setenv("FASTER_NOTES_LIST_LIMIT", "20")

    settings = notes_app_factory().state.faster.settings_for("notes", NotesSettings)

    assert (settings.write_limit, settings.list_limit) == ("7/minute", 20)


def test_faster_run_serves_the_factory(tmp_path: Path) -> None:
    """`faster run examples.notes.app:create --factory`, a real server on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    faster = Path(sys.executable).with_name("faster")
    command = (
        [str(faster)]
        if faster.exists()
        else [sys.executable, "-c", "from faster_core.cli import main; main()"]
    )
    server = subprocess.Popen(
        [
            *command,
            "run",
            "examples.notes.app:create",
            "--factory",
            "--port",
            str(port),
            "--app-dir",
            str(ROOT),
        ],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("FASTER_")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = _wait_for(f"http://127.0.0.1:{port}/health/ready", server)
        anonymous = httpx.get(f"http://127.0.0.1:{port}/notes", timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=15)

    assert ready.status_code == 200
    assert anonymous.status_code == 401
    assert (tmp_path / "faster.db").is_file()  # the embedded default, in the working directory


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within 60 s")
