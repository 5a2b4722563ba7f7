"""Load organisers' files into a `Project` and check them, with `file:line:column` messages."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator
from pathlib import Path

from bots.engine.project import Project
from bots.errors import BotsError
from bots.loader import cache
from bots.loader.checks import ProjectChecker
from bots.loader.diagnostics import Diagnostic, DiagnosticList, Position
from bots.loader.load import ProjectLoader

__all__ = ["Diagnostic", "DiagnosticList", "Position", "ProjectError", "check_path", "find_root", "load_project"]


class ProjectError(BotsError):
    """The project has errors; `diagnostics` holds them all (warnings too)."""

    def __init__(self, diagnostics: DiagnosticList) -> None:
        self.diagnostics = diagnostics
        errors = diagnostics.errors
        super().__init__(f"{len(errors)} error(s) in the flows; run 'bots check' for details")


def find_root(start: Path) -> Path | None:
    """The project folder at or above `start`: the first holding `flows/` or `knowledge/`."""
    start = start.resolve()
    for candidate in [start, *start.parents]:
        if (candidate / "flows").is_dir() or (candidate / "knowledge").is_dir():
            return candidate
    return None


def load_project(root: Path, *, today: dt.date | None = None, display_base: Path | None = None) -> tuple[Project, DiagnosticList]:
    """Load and check everything under `root`. The project is usable only if there are no errors.

    Files parsed before (in this process or, through the disk cache, an earlier one) with the
    same content are not parsed again (`bots.loader.cache`); every check runs each time."""
    today = today or dt.date.today()
    with _gc_paused(), cache.loading(root, display_base or Path.cwd()) as checked:
        loader = ProjectLoader(root, display_base=display_base, today=today)
        project = loader.load()
        ProjectChecker(project, loader.origins, loader.diagnostics, today).run()
        checked(project)
    return project, loader.diagnostics


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Loading builds many small objects and no cycles worth collecting midway; the cyclic
    collector would otherwise run dozens of times over a growing heap (half the load time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_or_raise(root: Path, *, today: dt.date | None = None) -> tuple[Project, DiagnosticList]:
    project, diagnostics = load_project(root, today=today)
    if diagnostics.errors:
        raise ProjectError(diagnostics)
    return project, diagnostics


def check_path(path: Path, *, today: dt.date | None = None, display_base: Path | None = None) -> list[Diagnostic]:
    """Diagnostics for a file or folder, checked within its project, sorted by place."""
    resolved = path.resolve()
    root = find_root(resolved if resolved.is_dir() else resolved.parent)
    if root is None:
        root = resolved if resolved.is_dir() else resolved.parent
    project, diagnostics = load_project(root, today=today, display_base=display_base)
    if any((root / "locales").glob("*/LC_MESSAGES/*.po")):  # translations are in use: say what is missing
        from bots.i18n.check import missing_translations

        for file, line, column, message in missing_translations(project, root / "locales", display_base=display_base):
            diagnostics.append(Diagnostic.warning(Position(file, line, column), message))
    base = display_base or Path.cwd()
    selected = []
    for diagnostic in diagnostics.sorted():
        place = (base / diagnostic.position.file).resolve()
        if resolved == root or place == resolved or resolved in place.parents:
            selected.append(diagnostic)
    return selected
