"""Fixtures for the core's tests: real installed entry points and an isolated environment."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

InstallPlugin = Callable[..., Path]


@pytest.fixture(autouse=True)
def _no_faster_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests start from no FASTER_* variables and an empty working directory (no `.env`)."""
    import os

    for name in list(os.environ):
        if name.startswith("FASTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path where test plugins are installed as real distributions."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [m for m in sys.modules if m.startswith("sample_faster_")]:
        del sys.modules[name]


@pytest.fixture
def install_plugin(site_dir: Path) -> InstallPlugin:
    """Install a plugin distribution: its module source and a `faster` entry point.

    This is what pip leaves behind: a module on sys.path and a `.dist-info` folder whose
    `entry_points.txt` names it, found by `importlib.metadata` like any installed package.
    """

    def install(
        name: str, source: str, *, version: str = "1.0.0", target: str | None = None
    ) -> Path:
        module = f"sample_faster_{name}"
        (site_dir / f"{module}.py").write_text(textwrap.dedent(source))
        dist = site_dir / f"{module}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: {version}\n"
        )
        (dist / "entry_points.txt").write_text(f"[faster]\n{name} = {target or module}\n")
        return site_dir

    return install
