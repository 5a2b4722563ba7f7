"""Rules the code keeps, checked on its syntax trees (no linter needed to hold them).

- No import of python-telegram-bot's private modules (`telegram._utils`, `telegram._bot`,
  ...): they change without notice between PTB releases, and `pyproject.toml` allows any 22.x.
  What we need is public: `BaseRequest.DEFAULT_NONE`, `RequestData.multipart_data`.
- No `assert` statement in `bots/`: `python -O` drops them, so a guard written as one is no
  guard in production. Check and raise an error that says what went wrong, or let the types
  say it cannot happen.
- The layers import downwards only: the engine, the loader, the store, translations and
  privacy never import the Telegram edge, the command line or the studio (which use them).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("bots", "tests", "bench")


def python_files() -> Iterator[Path]:
    for folder in CODE:
        yield from sorted((ROOT / folder).rglob("*.py"))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def imported(tree: ast.AST) -> Iterator[tuple[ast.AST, list[str]]]:
    """Each import statement, with the modules it names (`from a import b`: `a` and `a.b`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node, [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]


def private_telegram_imports(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    for node, names in imported(tree):
        for name in names:
            parts = name.split(".")
            if parts[0] in ("telegram",) and any(part.startswith("_") for part in parts[1:]):
                yield node, name
                break


def asserts(tree: ast.AST) -> Iterator[ast.AST]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Assert))


#: packages below the edge, and what they must not import
LOWER = ("engine", "loader", "storage", "i18n", "privacy", "console", "report", "tools")
UPPER = ("bots.telegram", "bots.cli", "bots.studio", "bots.broadcast")


def upward_imports(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    for node, names in imported(tree):
        upward = [name for name in names if any(name == upper or name.startswith(upper + ".") for upper in UPPER)]
        if upward:
            yield node, upward[0]


def test_the_rules_see_what_they_look_for() -> None:
    tree = ast.parse("from telegram._utils.types import ODVInput\nimport telegram._bot\nfrom telegram import _utils\n")
    assert len(list(private_telegram_imports(tree))) == 3
    assert not list(private_telegram_imports(ast.parse("from telegram.request import BaseRequest\n")))
    assert len(list(asserts(ast.parse("def f(x):\n    assert x\n    if x:\n        assert x, 'why'\n")))) == 2
    upward = "from bots.telegram.flood import Verdict\nimport bots.cli\ndef f():\n    from bots.studio import serve\n"
    assert len(list(upward_imports(ast.parse(upward)))) == 3
    assert not list(upward_imports(ast.parse("from bots.storage.flood import Verdict\nimport bots.telegramish\n")))


def test_no_private_python_telegram_bot_imports() -> None:
    found = [
        f"{where(path, node)}: {name}"
        for path in python_files()
        for node, name in private_telegram_imports(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert not found, "private python-telegram-bot modules imported (use its public API):\n" + "\n".join(found)


def test_no_assert_guards_in_the_product() -> None:
    found = [
        where(path, node)
        for path in sorted((ROOT / "bots").rglob("*.py"))
        for node in asserts(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert not found, "assert statements in bots/ (gone under python -O): raise a real error instead:\n" + "\n".join(found)


def test_the_layers_import_downwards_only() -> None:
    found = [
        f"{where(path, node)}: {name}"
        for package in LOWER
        for path in sorted((ROOT / "bots" / package).rglob("*.py"))
        for node, name in upward_imports(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert not found, "a lower layer imports the edge, the command line or the studio:\n" + "\n".join(found)
