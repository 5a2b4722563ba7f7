"""Fixture projects of the tools' tests, loaded once per module."""

from __future__ import annotations

from pathlib import Path

from bots.engine import Project
from bots.loader import load_project

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_fixture(name: str) -> Project:
    """The project `tests/tools/fixtures/<name>/`, which must load without errors."""
    root = FIXTURES / name
    loaded, diagnostics = load_project(root, display_base=root)
    assert not diagnostics.errors, [d.render() for d in diagnostics.errors]
    return loaded
