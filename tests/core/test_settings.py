"""Settings from the environment and `.env`, plugin settings, production refusals
(faster_core/settings.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from faster_core import (
    Environment,
    FasterSettings,
    PluginInfo,
    PluginSettings,
    UnsafeSettingsError,
    create_app,
    hookimpl,
)


class MailSettings(PluginSettings):
    host: str = "localhost"
    port: int = 25
    api_key: SecretStr = SecretStr("change-me")


class MailPlugin:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("mail", settings=MailSettings)


def build(**values: Any) -> FastAPI:
    return create_app(
        FasterSettings(_env_file=None, **values), plugins=[MailPlugin()], load_entrypoints=False
    )


def test_core_settings_come_from_faster_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_ENV", "staging")
    monkeypatch.setenv("FASTER_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("FASTER_DISABLED_PLUGINS", '["health"]')
    monkeypatch.setenv("FASTER_MAX_BODY_SIZE", "2048")

    settings = FasterSettings(_env_file=None)

    assert settings.env is Environment.STAGING
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.disabled_plugins == ["health"]
    assert settings.max_body_size == 2048


def test_settings_are_read_from_dot_env_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FASTER_TITLE=From dotenv\nFASTER_MAIL_PORT=2525\n")

    app = create_app(plugins=[MailPlugin()], load_entrypoints=False)

    assert app.title == "From dotenv"
    assert app.state.faster.settings_for("mail", MailSettings).port == 2525


def test_plugin_settings_use_their_own_prefix_and_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FASTER_MAIL_HOST", "smtp.example")
    monkeypatch.setenv("FASTER_MAIL_PORT", "587")

    app = create_app(
        FasterSettings(_env_file=None, plugin_settings={"mail": {"port": 2525}}),
        plugins=[MailPlugin()],
        load_entrypoints=False,
    )

    mail = app.state.faster.settings_for("mail", MailSettings)
    assert mail.host == "smtp.example"
    assert mail.port == 2525


IMPORT_PROBE = """
import importlib, os, pkgutil, sys

reads = []

class Spy(dict):
    def __getitem__(self, key):
        reads.append(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        reads.append(key)
        return super().get(key, default)

    def __contains__(self, key):
        reads.append(key)
        return super().__contains__(key)

os.environ = Spy(os.environ)
import faster_core
for module in pkgutil.walk_packages(faster_core.__path__, "faster_core."):
    importlib.import_module(module.name)
sys.stdout.write(repr(sorted({k for k in reads if "FASTER" in k.upper()})))
"""


def test_importing_every_module_reads_no_faster_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FASTER_DEBUG=true\n")
    env = {**os.environ, "FASTER_ENV": "production", "FASTER_DEBUG": "true"}

    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tmp_path,
    )

    assert result.stdout == "[]"


def test_production_refuses_debug_naming_the_setting() -> None:
    with pytest.raises(UnsafeSettingsError, match="FASTER_DEBUG is true in production"):
        build(env="production", debug=True, plugin_settings={"mail": {"api_key": "k" * 40}})


def test_wildcard_cors_with_credentials_is_refused_in_every_environment() -> None:
    for env in ("development", "production"):
        with pytest.raises(UnsafeSettingsError, match="FASTER_CORS_ORIGINS contains '\\*'"):
            build(
                env=env,
                cors_origins=["*"],
                cors_allow_credentials=True,
                plugin_settings={"mail": {"api_key": "k" * 40}},
            )


def test_null_origin_in_the_allow_list_is_refused() -> None:
    with pytest.raises(UnsafeSettingsError, match="'null'"):
        build(cors_origins=["null"])


def test_production_refuses_a_plugins_default_secret_naming_the_variable() -> None:
    with pytest.raises(
        UnsafeSettingsError, match="FASTER_MAIL_API_KEY still has its default value"
    ):
        build(env="production")


def test_production_refuses_a_short_secret_naming_the_variable() -> None:
    with pytest.raises(UnsafeSettingsError, match="FASTER_MAIL_API_KEY is shorter than 32"):
        build(env="production", plugin_settings={"mail": {"api_key": "short"}})


def test_production_with_safe_settings_starts_without_debug_surfaces() -> None:
    app = build(env="production", plugin_settings={"mail": {"api_key": "k" * 40}})

    paths = {getattr(route, "path", None) for route in app.routes}
    assert "/docs" not in paths
    assert "/openapi.json" not in paths


def test_a_plugins_own_check_refuses_startup_with_its_reason() -> None:
    class Strict(MailPlugin):
        @hookimpl
        def faster_check_settings(self, host: Any) -> list[str]:
            return ["FASTER_MAIL_HOST must not be localhost in staging"]

    with pytest.raises(UnsafeSettingsError, match="FASTER_MAIL_HOST must not be localhost"):
        create_app(FasterSettings(_env_file=None), plugins=[Strict()], load_entrypoints=False)


def test_development_allows_default_secrets() -> None:
    assert build(env="development") is not None
