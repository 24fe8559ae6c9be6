"""The predecessor's debris cannot come back: every package's source is checked for it
(packages/*/src)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCES = sorted((Path(__file__).parents[2] / "packages").glob("*/src/**/*.py"))

# Module-level calls that build no shared state: loggers, compiled patterns, context variables,
# typing helpers and pluggy markers.
STATELESS_FACTORIES = {
    "getLogger",
    "compile",
    "ContextVar",
    "TypeVar",
    "ParamSpec",
    "HookspecMarker",
    "HookimplMarker",
    "frozenset",
    "attrgetter",  # an immutable accessor (operator.attrgetter), like a compiled pattern
}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def broad_handlers(module: ast.Module) -> Iterator[ast.ExceptHandler]:
    for node in ast.walk(module):
        if isinstance(node, ast.ExceptHandler):
            names = [node.type] if not isinstance(node.type, ast.Tuple) else node.type.elts
            if node.type is None or any(
                isinstance(n, ast.Name) and n.id in {"Exception", "BaseException"} for n in names
            ):
                yield node


def reraises_or_reports(handler: ast.ExceptHandler) -> bool:
    for node in ast.walk(handler):
        if isinstance(node, ast.Raise):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"exception", "error", "warning", "critical"}
        ):
            return True
    return False


def callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_sources_are_found() -> None:
    assert any(path.name == "app.py" for path in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(p.parents[3])))
def test_no_print_todo_or_base_http_middleware(path: Path) -> None:
    text = path.read_text()
    module = tree(path)
    prints = [
        n.lineno
        for n in ast.walk(module)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
    ]
    assert prints == []
    assert "TODO" not in text
    assert "FIXME" not in text
    subclasses = [
        n.name
        for n in ast.walk(module)
        if isinstance(n, ast.ClassDef)
        and any(getattr(b, "id", getattr(b, "attr", "")) == "BaseHTTPMiddleware" for b in n.bases)
    ]
    assert subclasses == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(p.parents[3])))
def test_broad_excepts_reraise_or_report(path: Path) -> None:
    silent = [h.lineno for h in broad_handlers(tree(path)) if not reraises_or_reports(h)]
    assert silent == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(p.parents[3])))
def test_no_module_level_singletons(path: Path) -> None:
    built = [
        f"line {node.lineno}: {callee(node.value)}()"
        for node in tree(path).body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and isinstance(node.value, ast.Call)
        and callee(node.value) not in STATELESS_FACTORIES
    ]
    assert built == []


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    bad = ast.parse(
        "client = Redis()\n"
        "try:\n    pass\nexcept Exception:\n    pass\n"
        "try:\n    pass\nexcept Exception:\n    log.exception('x')\n"
    )
    assigned = [n.value for n in bad.body if isinstance(n, ast.Assign)]
    assert [callee(v) for v in assigned if isinstance(v, ast.Call)] == ["Redis"]
    handlers = list(broad_handlers(bad))
    assert [reraises_or_reports(h) for h in handlers] == [False, True]
