"""`FASTER_DB_*` settings, and the URL's password kept out of every output
(faster_db/settings.py)."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from faster_core import Environment
from faster_core.testing import client_for
from faster_db import Database, DBSettings
from faster_db.settings import DEFAULT_URL, redact_url
from tests.db.app_kit import make_app

pytestmark = pytest.mark.anyio

SECRET_URL = "postgresql+asyncpg://app:hunter2-very-secret@127.0.0.1:5432/app"


def test_defaults_are_a_sqlite_file_in_the_working_directory() -> None:
    settings = DBSettings(_env_file=None)
    assert settings.url == DEFAULT_URL == "sqlite+aiosqlite:///./faster.db"
    assert settings.is_sqlite
    assert settings.migrates_on_startup(Environment.DEVELOPMENT) is True
    assert settings.migrates_on_startup(Environment.PRODUCTION) is False


def test_settings_are_read_from_faster_db_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_DB_URL", SECRET_URL)
    monkeypatch.setenv("FASTER_DB_REPLICA_URLS", f"{SECRET_URL}1,{SECRET_URL}2")
    monkeypatch.setenv("FASTER_DB_POOL_SIZE", "7")
    monkeypatch.setenv("FASTER_DB_PREPARED_STATEMENTS", "false")
    settings = DBSettings(_env_file=None, _env_prefix="FASTER_DB_")
    assert settings.url == SECRET_URL
    assert settings.replica_urls == [f"{SECRET_URL}1", f"{SECRET_URL}2"]
    assert settings.pool_size == 7
    assert settings.prepared_statements is False
    assert settings.migrates_on_startup(Environment.DEVELOPMENT) is False


def test_the_password_never_shows_in_repr_dumps_or_errors() -> None:
    settings = DBSettings(_env_file=None, url=SECRET_URL, replica_urls=[SECRET_URL])
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump(mode="json"))
    assert "hunter2" not in str(settings.model_dump())
    assert settings.model_dump(mode="json")["url"] == (
        "postgresql+asyncpg://app:***@127.0.0.1:5432/app"
    )
    assert "hunter2" not in repr(Database.__repr__(_FakeDatabase(settings)))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        DBSettings(_env_file=None, url="not a url hunter2")
    assert "hunter2" not in str(caught.value)
    assert "not a database URL" in str(caught.value)


class _FakeDatabase:
    def __init__(self, settings: DBSettings) -> None:
        self.settings = settings
        self.replicas = [object()]


def test_redact_url_handles_urls_without_password() -> None:
    assert redact_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


async def test_debug_settings_page_and_logs_show_no_password(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app, _ = make_app(sqlite_url, replica_urls=[SECRET_URL], connect_timeout=0.5)
    app.state.faster.settings.debug = True
    from faster_core.introspection import describe_settings

    shown = describe_settings(app.state.faster)
    assert shown["plugins"]["db"]["replica_urls"] == [
        "postgresql+asyncpg://app:***@127.0.0.1:5432/app"
    ]
    async with client_for(app) as client:
        health = await client.get("/health")
    assert "hunter2" not in health.text
    assert "hunter2" not in caplog.text
