"""The app's command line runs every branch's migrations, notes included (manage.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from examples.notes.manage import command_line


def test_db_upgrade_applies_the_notes_branch_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASTER_ENV", "test")  # nothing migrates at start-up: the CLI must
    monkeypatch.setenv("FASTER_DB_URL", f"sqlite+aiosqlite:///{tmp_path / 'deploy.db'}")
    runner = CliRunner()

    before = runner.invoke(command_line(), ["db", "current"])
    upgraded = runner.invoke(command_line(), ["db", "upgrade"])
    again = runner.invoke(command_line(), ["db", "upgrade"])
    after = runner.invoke(command_line(), ["db", "current"])

    assert [r.exit_code for r in (before, upgraded, again, after)] == [0, 0, 0, 0], after.output
    assert "notes_0001" not in before.output
    assert "notes_0001" in after.output
    assert "upgraded" in again.output  # a second deploy is a no-op, not an error
