"""Every hook is documented: in its docstring and in the package README, with the same
signature (faster_core/hookspecs.py)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faster_core import hookspecs

README = Path(__file__).parents[2] / "packages" / "faster-core" / "README.md"


def all_hookspecs() -> list[Callable[..., Any]]:
    return [
        fn
        for name, fn in vars(hookspecs).items()
        if name.startswith("faster_") and hasattr(fn, f"{hookspecs.PROJECT}_spec")
    ]


def documentation_problems(spec: Callable[..., Any]) -> list[str]:
    """What the hook's docstring lacks: when it is called, each argument, the return contract."""
    doc = inspect.getdoc(spec) or ""
    problems = []
    if not re.search(r"\bCalled\b", doc):
        problems.append("does not say when it is called")
    params = list(inspect.signature(spec).parameters)
    if params:
        args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
        problems += [f"does not document argument {p!r}" for p in params if f"{p}:" not in args]
    if "Returns:" not in doc:
        problems.append("has no Returns: section")
    return problems


def signature_text(spec: Callable[..., Any]) -> str:
    return f"{spec.__name__}({', '.join(inspect.signature(spec).parameters)})"


def test_the_core_declares_the_minimum_hook_set() -> None:
    names = {fn.__name__ for fn in all_hookspecs()}
    assert names >= {
        "faster_plugin_info",
        "faster_add_hookspecs",
        "faster_routers",
        "faster_middleware",
        "faster_exception_handlers",
        "faster_lifespan",
        "faster_health_checks",
        "faster_cli_commands",
        "faster_configure_app",
    }


@pytest.mark.parametrize("spec", all_hookspecs(), ids=lambda fn: fn.__name__)
def test_hook_docstring_says_when_arguments_and_returns(spec: Callable[..., Any]) -> None:
    assert documentation_problems(spec) == []


@pytest.mark.parametrize("spec", all_hookspecs(), ids=lambda fn: fn.__name__)
def test_hook_is_documented_in_the_readme_with_its_signature(spec: Callable[..., Any]) -> None:
    assert f"`{signature_text(spec)}`" in README.read_text()


def test_an_undocumented_hook_is_caught() -> None:
    def faster_undocumented(host: object) -> None:
        pass

    def faster_half_documented(host: object, app: object) -> None:
        """Called sometimes.

        Args:
            host: the host.
        """

    assert len(documentation_problems(faster_undocumented)) == 3
    assert documentation_problems(faster_half_documented) == [
        "does not document argument 'app'",
        "has no Returns: section",
    ]


def test_add_hookspecs_is_historic() -> None:
    assert hookspecs.faster_add_hookspecs.faster_spec["historic"] is True  # type: ignore[attr-defined]
