"""The package README documents every setting, command and fixture
(packages/faster-db/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faster_db import DBSettings, testing

README = (Path(__file__).parents[2] / "packages" / "faster-db" / "README.md").read_text()
COMMANDS = ["upgrade", "downgrade", "revision", "current", "history"]


@pytest.mark.parametrize("field", sorted(DBSettings.model_fields))
def test_every_setting_is_in_the_settings_table(field: str) -> None:
    assert f"| `{field}` | `FASTER_DB_{field.upper()}` |" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command: str) -> None:
    assert f"`faster db {command}" in README


def test_the_documented_commands_are_the_real_ones(sqlite_url: str) -> None:
    import faster_db.plugin
    from faster_core import FasterSettings, PluginHost
    from faster_db.cli import db_group

    host = PluginHost.build(
        FasterSettings(_env_file=None, plugin_settings={"db": {"url": sqlite_url}}),
        plugins=[faster_db.plugin],
        load_entrypoints=False,
    )
    assert sorted(db_group(host).commands) == sorted(COMMANDS)


@pytest.mark.parametrize("fixture", testing.__all__)
def test_every_fixture_is_documented(fixture: str) -> None:
    assert f"| `{fixture}` |" in README


def test_the_published_hook_is_documented() -> None:
    assert "| `faster_db_migrations(host)` |" in README
