"""Fixtures for faster-auth's tests: an app with the db and auth plugins on a SQLite file."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI

import faster_auth.plugin
import faster_db.plugin
from faster_core import FasterSettings, create_app
from faster_core.testing import client_for
from tests.auth.app_kit import protected_router

AuthAppFactory = Callable[..., FastAPI]


@pytest.fixture(autouse=True)
def _no_faster_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests start from no FASTER_* variables and an empty working directory (no `.env`)."""
    for name in list(os.environ):
        if name.startswith("FASTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def private_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def auth_app_factory(tmp_path: Path) -> AuthAppFactory:
    """`factory(env="test", **auth_settings)`: db + auth plugins and the protected test routes."""

    def factory(env: str = "test", **auth: Any) -> FastAPI:
        settings = FasterSettings(
            _env_file=None,
            env=env,
            plugin_settings={
                "db": {"url": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", "auto_migrate": True},
                "auth": auth,
            },
        )
        app = create_app(
            settings, plugins=[faster_db.plugin, faster_auth.plugin], load_entrypoints=False
        )
        app.include_router(protected_router())
        return app

    return factory


@pytest.fixture
def auth_app(auth_app_factory: AuthAppFactory, private_pem: str) -> FastAPI:
    return auth_app_factory(private_key=private_pem)


@pytest.fixture
async def client(auth_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(auth_app) as client:
        yield client
