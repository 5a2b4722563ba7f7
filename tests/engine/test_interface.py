"""The engine's interface: one node type per file, nodes that know only the `Runtime`
protocol, and an engine that logs nothing (its problems are outputs the adapters log once)."""

from __future__ import annotations

import ast
import datetime as dt
import logging
import re
from pathlib import Path
from typing import ClassVar, Literal

import pytest

import bots.engine.nodes as nodes_package
from bots.engine import StepContext
from bots.engine.nodes import NODE_TYPES
from bots.engine.nodes.base import Node, node_type
from bots.engine.outputs import Problem, Say
from tests.support.project import FAILING_TEMPLATE

ENGINE = Path(nodes_package.__file__).resolve().parents[1]
NODES = ENGINE / "nodes"
ROOT = ENGINE.parents[1]


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at run time or for type checking alike."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_each_node_type_has_its_own_file_named_by_its_type() -> None:
    files = {path.stem for path in NODES.glob("*.py")} - {"__init__", "base"}
    assert files == set(NODE_TYPES)
    for name, cls in NODE_TYPES.items():
        assert cls.__module__ == f"bots.engine.nodes.{name}", f"{cls.__name__} is not in nodes/{name}.py"


def test_the_table_of_contents_lists_every_node_type_with_its_file_and_class() -> None:
    rows = re.findall(r"^\|\s*([a-z_]+)\s*\|\s*`([a-z_]+)\.(\w+)`\s*\|", nodes_package.__doc__ or "", re.MULTILINE)
    assert sorted(rows) == sorted((name, name, cls.__name__) for name, cls in NODE_TYPES.items())


def test_nodes_know_the_runtime_protocol_not_the_engine() -> None:
    concrete = {"bots.engine.runtime", "bots.engine.engine", "bots.engine.project", "bots.engine.model", "bots.engine.asides"}
    for path in sorted(NODES.glob("*.py")):
        assert not imported_modules(path) & concrete, f"{path.name} imports {sorted(imported_modules(path) & concrete)}"
    assert not imported_modules(ENGINE / "interfaces.py") & (concrete | {"bots.engine.nodes", "bots.engine.nodes.base"})


def engine_imports() -> dict[str, set[str]]:
    """Module of the engine -> the modules of the engine it imports (for type checking too)."""
    names = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p for p in ENGINE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in names:
                modules = {f"{node.module}.{a.name}" for a in node.names} & names.keys()
                found |= modules or {node.module}
        graph[name] = found - {name}
    return graph


def test_the_engine_imports_without_a_cycle_type_checking_imports_included() -> None:
    graph = engine_imports()
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "import cycle: " + " -> ".join((*path[path.index(name) :], name))
        if name not in done:
            for imported in sorted(graph[name]):
                visit(imported, (*path, name))
            done.add(name)

    for name in sorted(graph):
        visit(name, ())


def test_no_module_of_the_engine_logs() -> None:
    logging_users = [path.name for path in sorted(ENGINE.rglob("*.py")) if "logging" in imported_modules(path)]
    assert logging_users == []


def test_a_flow_problem_is_an_output_and_no_log_line_of_the_engine(chat, caplog: pytest.LogCaptureFixture) -> None:
    c = chat(FAILING_TEMPLATE)
    c.send("/start")
    context = StepContext(now=dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc))
    with caplog.at_level(logging.DEBUG):
        outputs = c.engine.step(c.state, c.engine.event_for_text("42"), context).outputs
    assert isinstance(outputs[0], Say) and "something went wrong" in outputs[0].text
    assert [o.where for o in outputs if isinstance(o, Problem)] == ["demo/main:show"]
    assert [r for r in caplog.records if r.name.startswith("bots.engine")] == []


# --- what other modules use of the engine is public ----------------------------------------------


def private_names(tree: ast.AST) -> set[str]:
    """The names a module defines with one leading underscore: functions, classes, methods,
    module and class attributes, and `self._x` attributes."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                found.add(node.attr)
    return {name for name in found if name.startswith("_") and not name.startswith("__")}


def test_the_rest_of_the_project_uses_only_the_public_names_of_the_engine() -> None:
    engine_private = set().union(*(private_names(ast.parse(p.read_text(encoding="utf-8"))) for p in ENGINE.rglob("*.py")))
    others = {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for folder in ("bots", "tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if ENGINE not in path.parents
    }
    # a private name that other code defines too (a `_run` of its own) is that code's business
    engine_only = engine_private - set().union(*(private_names(tree) for tree in others.values()))
    misuses = []
    for path, tree in others.items():
        shown = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bots.engine"):
                misuses += [f"{shown}:{node.lineno}: imports {a.name}" for a in node.names if a.name.startswith("_")]
            elif isinstance(node, ast.Attribute) and node.attr in engine_only:
                misuses.append(f"{shown}:{node.lineno}: uses .{node.attr}")
    assert misuses == []


def test_a_node_type_declares_its_next_and_its_text_keys_or_is_refused_when_registered() -> None:
    class Forgetful(Node):
        type: Literal["forgetful"]
        next: str | None = None

    class Misspelt(Node):
        type: Literal["misspelt"]
        text: str

        TEXT_KEYS: ClassVar[tuple[str, ...]] = ("txet",)

    with pytest.raises(TypeError, match="next_target"):
        node_type(Forgetful)
    with pytest.raises(TypeError, match="txet"):
        node_type(Misspelt)
    assert "forgetful" not in NODE_TYPES and "misspelt" not in NODE_TYPES
