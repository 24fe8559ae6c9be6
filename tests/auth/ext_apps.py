"""Apps verifying an external issuer's tokens, with or without the db plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

import faster_auth.plugin
import faster_db.plugin
from faster_core import FasterSettings, create_app
from tests.auth.app_kit import protected_router

INVALID_DETAIL = "The access token is missing, invalid or expired."


def external_app(
    db_url: str | None,
    *,
    env: str = "test",
    plugins: list[Any] | None = None,
    db: dict[str, Any] | None = None,
    **auth: Any,
) -> FastAPI:
    """The auth plugin with `auth` settings, plus the db plugin on `db_url` unless it is None."""
    plugin_settings: dict[str, Any] = {"auth": auth}
    enabled: list[Any] = [faster_auth.plugin]
    if db_url is not None:
        plugin_settings["db"] = {"url": db_url, "auto_migrate": True, **(db or {})}
        enabled.insert(0, faster_db.plugin)
    settings = FasterSettings(_env_file=None, env=env, plugin_settings=plugin_settings)
    app = create_app(settings, plugins=[*enabled, *(plugins or [])], load_entrypoints=False)
    app.include_router(protected_router())
    return app


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == INVALID_DETAIL
