"""The notes app under test, built with the suite's testing kit as any user's project would.

- `faster_app` (faster-core's kit) is overridden to be the notes app: the db, auth and redis
  plugins plus `NotesPlugin`, on a SQLite file of the test's own and the in-process `memory://`
  Redis stand-in. The file is a copy of one migrated once per session by the app itself (its
  start-up auto-upgrade, through the `faster_db_migrations` hook): migrating per test would cost
  seconds each.
- `faster_client` then runs that app's lifespan; accounts are made through `/auth/register` and
  `/auth/login` (`sign_up`), or tokens minted with faster-auth's kit (`faster_auth_token`,
  `token_for`, here `bearer`) where the account itself is not the point; `rate_limits(app)`
  (faster-redis's kit) changes limits per test.
- `faster_db_migration_sources` (faster-db's kit) is overridden so that `faster_db_session`
  runs on a database with the notes tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import faster_auth.plugin
import faster_db.plugin
import faster_redis.plugin
from examples.notes import NotesPlugin
from faster_auth.testing import token_for
from faster_core import Environment, FasterSettings, create_app
from faster_core.testing import client_for
from faster_db import MigrationSource

NotesAppFactory = Callable[..., FastAPI]
SignUp = Callable[[str], Awaitable[dict[str, str]]]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FASTER_* variable of the machine leaks in; no `.env`, key or database in the repo."""
    for name in list(os.environ):
        if name.startswith("FASTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def faster_db_migration_sources() -> list[MigrationSource]:
    return list(NotesPlugin().faster_db_migrations())


def _plugins() -> list[object]:
    return [faster_db.plugin, faster_auth.plugin, faster_redis.plugin, NotesPlugin()]


@pytest.fixture(scope="session")
def notes_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every branch (db, auth, notes) migrated by the app's own start-up."""
    folder = tmp_path_factory.mktemp("notes-database")
    database = folder / "notes.db"
    settings = FasterSettings(
        _env_file=None,
        env=Environment.TEST,
        plugin_settings={
            "db": {"url": f"sqlite+aiosqlite:///{database}", "auto_migrate": True},
            "redis": {"url": "memory://"},
            "auth": {"generated_key_file": str(folder / "signing-key.pem")},
        },
    )
    app = create_app(settings, plugins=_plugins(), load_entrypoints=False)

    async def start_and_stop() -> None:
        async with client_for(app):
            pass

    asyncio.run(start_and_stop())
    return database


@pytest.fixture
def notes_app_factory(
    faster_app_factory: Callable[..., FastAPI], notes_database: Path, tmp_path: Path
) -> NotesAppFactory:
    """`factory(notes={...}, **core_settings)`: the notes app; `notes` are FASTER_NOTES_* values."""
    database = Path(shutil.copy(notes_database, tmp_path / "notes.db"))

    def factory(notes: dict[str, Any] | None = None, **settings: Any) -> FastAPI:
        plugin_settings = {
            "db": {"url": f"sqlite+aiosqlite:///{database}", "auto_migrate": False},
            "redis": {"url": "memory://"},
            "auth": {"generated_key_file": str(tmp_path / "signing-key.pem")},
            "notes": notes or {},
        }
        return faster_app_factory(*_plugins(), plugin_settings=plugin_settings, **settings)

    return factory


@pytest.fixture
def faster_app(notes_app_factory: NotesAppFactory) -> FastAPI:
    return notes_app_factory()


async def sign_up_on(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    """Register `name` through the account routes, log in, and return the bearer header."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    registered = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def bearer(app: FastAPI, subject: str, *roles: str) -> dict[str, str]:
    """A bearer header for `subject` signed by `app`'s key, with no account behind it (fast:
    no password hashing); `app`'s lifespan must be running."""
    return {"Authorization": f"Bearer {token_for(app, subject, roles=roles)}"}


@pytest.fixture
def sign_up(faster_client: httpx.AsyncClient) -> SignUp:
    """`headers = await sign_up("ada")`: a new local account on the app behind `faster_client`."""

    async def sign_up(name: str) -> dict[str, str]:
        return await sign_up_on(faster_client, name)

    return sign_up
