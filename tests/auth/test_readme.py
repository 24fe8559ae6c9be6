"""The package README documents every setting and fixture (packages/faster-auth/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faster_auth import AuthSettings, testing

README = (Path(__file__).parents[2] / "packages" / "faster-auth" / "README.md").read_text()


@pytest.mark.parametrize("field", sorted(AuthSettings.model_fields))
def test_every_setting_is_in_the_settings_table(field: str) -> None:
    assert f"| `{field}` | `FASTER_AUTH_{field.upper()}` |" in README


@pytest.mark.parametrize("fixture", [name for name in testing.__all__ if name.startswith("faster")])
def test_every_fixture_is_documented(fixture: str) -> None:
    assert f"| `{fixture}` |" in README
