"""The package README documents every setting, CLI command and fixture
(packages/faster-core/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faster_core import FasterSettings, testing
from faster_core.cli import main

README = (Path(__file__).parents[2] / "packages" / "faster-core" / "README.md").read_text()


@pytest.mark.parametrize("field", sorted(FasterSettings.model_fields))
def test_every_setting_is_in_the_settings_table(field: str) -> None:
    assert f"| `{field}` | `FASTER_{field.upper()}` |" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"`faster {command}" in README


def fixture_names() -> list[str]:
    return [
        name
        for name, value in vars(testing).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
        or hasattr(value, "_pytestfixturefunction")
    ]


def test_the_testing_kit_has_fixtures() -> None:
    assert {"faster_app_factory", "faster_client"} <= set(fixture_names())


@pytest.mark.parametrize("fixture", fixture_names())
def test_every_fixture_is_documented(fixture: str) -> None:
    assert f"| `{fixture}` |" in README
