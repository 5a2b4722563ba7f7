"""The project as the studio sees it: the files on disk, plus what is typed and not saved yet.

The files stay the truth. What the organiser types is kept here as a *draft* of its file
(in memory, never written) and checked against the rest of the project exactly as `bots
check` would check it; the chat, the graph and the tests use the drafts too, so a change can
be tried before it is saved. Saving writes one file, and only if nobody changed it on disk
since it was opened: otherwise the conflict is reported and both versions are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bots.engine.i18n import Translator
from bots.engine.project import Project
from bots.i18n.translations import CatalogError, project_translator
from bots.loader.checks import ProjectChecker
from bots.loader.diagnostics import Diagnostic, DiagnosticList, Position
from bots.loader.load import YAML_SUFFIXES, Origins, ProjectLoader
from bots.loader.watcher import ProjectWatcher

EDITABLE = ("flows", "knowledge")  # the folders whose YAML files the studio edits


class FileRefused(ValueError):
    """A path the studio does not edit (outside flows/ and knowledge/, or not YAML)."""


@dataclass(frozen=True)
class Conflict:
    """The file changed on disk since it was opened: nothing was written."""

    disk_text: str
    disk_version: str


@dataclass(frozen=True)
class Loaded:
    """The project with the drafts in it, checked; usable for the engine only without errors."""

    project: Project
    origins: Origins
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


@dataclass
class Good:
    """The last version without errors (what the chat, graph and tests use), and why not newer."""

    loaded: Loaded
    translator: Translator
    #: errors of the newer version that could not be used (as `bots check` prints them)
    refused: list[str] = field(default_factory=list)


def version_of(data: bytes) -> str:
    """A file's version: its contents' hash (times lie on copies and network drives)."""
    return hashlib.sha256(data).hexdigest()[:16]


def kind_of(relative: str) -> str:
    """What a file is for an organiser: bot, flow, test, catalog or canned replies."""
    parts = relative.split("/")
    if parts[0] == "knowledge":
        return "canned" if Path(relative).stem == "canned" else "catalog"
    if len(parts) >= 4 and parts[2] == "tests":
        return "test"
    return "bot" if Path(relative).stem == "bot" else "flow"


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, object]:
    p = diagnostic.position
    return {
        "file": p.file,
        "line": p.line,
        "column": p.column,
        "severity": diagnostic.severity,
        "message": diagnostic.message,
        "text": diagnostic.render(),
    }


class Workspace:
    def __init__(self, root: Path, *, today: dt.date | None = None) -> None:
        self.root = root.resolve()
        self.today = today
        self.drafts: dict[Path, str] = {}
        self._watcher = ProjectWatcher(self.root)
        self._loaded: tuple[object, Loaded] | None = None
        self._translator: tuple[object, Translator] | None = None
        self._good: Good | None = None

    # --- files --------------------------------------------------------------------------

    def path(self, relative: str) -> Path:
        """The file `relative` (as the tree names it), refused unless it is one the studio edits."""
        candidate = (self.root / relative).resolve()
        inside = candidate.relative_to(self.root).parts if candidate.is_relative_to(self.root) else ()
        if not inside or inside[0] not in EDITABLE or candidate.suffix not in YAML_SUFFIXES:
            raise FileRefused(f"{relative}: the studio edits the YAML files under flows/ and knowledge/ only")
        return candidate

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def files(self) -> list[dict[str, object]]:
        """The tree: every bot, flow, test and catalog file, with whether it has a draft."""
        found = []
        for folder in EDITABLE:
            for directory, dirs, names in os.walk(self.root / folder):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    path = Path(directory) / name
                    if path.suffix in YAML_SUFFIXES:
                        relative = self.relative(path)
                        found.append({"path": relative, "kind": kind_of(relative), "draft": path in self.drafts})
        return found

    def read(self, relative: str) -> tuple[str, str]:
        """The file's text on disk and its version."""
        data = self.path(relative).read_bytes()
        return data.decode("utf-8", errors="replace"), version_of(data)

    def set_draft(self, relative: str, text: str) -> None:
        """What is typed in `relative` now; typing the file back as it is on disk drops the draft."""
        path = self.path(relative)
        try:
            on_disk = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            on_disk = None
        if text == on_disk:
            self.drafts.pop(path, None)
        else:
            self.drafts[path] = text

    def drop_draft(self, relative: str) -> None:
        self.drafts.pop(self.path(relative), None)

    def save(self, relative: str, text: str, base_version: str | None, *, force: bool = False) -> str | Conflict:
        """Write `text` if the file is still the version it was opened at (or `force`); its new version."""
        path = self.path(relative)
        if path.exists() and not force:
            data = path.read_bytes()
            if version_of(data) != base_version:
                return Conflict(data.decode("utf-8", errors="replace"), version_of(data))
        encoded = text.encode("utf-8")
        # a new file then a rename: an editor or `bots run` never reads half a file
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(encoded)
            if path.exists():
                os.chmod(temporary, path.stat().st_mode & 0o777)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.drafts.pop(path, None)
        return version_of(encoded)

    # --- the project ----------------------------------------------------------------------

    def load(self) -> Loaded:
        """The project with the drafts, checked as `bots check` checks it (loaded again only after a change)."""
        key = (tuple(sorted(self._watcher.scan().items())), tuple(sorted((str(p), t) for p, t in self.drafts.items())))
        if self._loaded is not None and self._loaded[0] == key:
            return self._loaded[1]
        loaded = self._check(self.drafts)
        self._loaded = (key, loaded)
        return loaded

    def _check(self, drafts: dict[Path, str]) -> Loaded:
        today = self.today or dt.date.today()
        loader = ProjectLoader(self.root, display_base=self.root, today=today, texts=dict(drafts))
        project = loader.load()
        ProjectChecker(project, loader.origins, loader.diagnostics, today).run()
        diagnostics = loader.diagnostics
        if any((self.root / "locales").glob("*/LC_MESSAGES/*.po")):  # as `bots check` does
            self._missing_translations(project, diagnostics)
        return Loaded(project, loader.origins, diagnostics.sorted())

    def _missing_translations(self, project: Project, diagnostics: DiagnosticList) -> None:
        from bots.i18n.check import missing_translations

        for file, line, column, message in missing_translations(project, self.root / "locales", display_base=self.root):
            diagnostics.append(Diagnostic.warning(Position(file, line, column), message))

    def translator(self) -> Translator:
        """The project's translations, read again after a `.po` file changed."""
        snapshot = self._watcher.scan()
        key = tuple(sorted(item for item in snapshot.items() if item[0].endswith(".po")))
        if self._translator is None or self._translator[0] != key:
            self._translator = (key, project_translator(self.root))
        return self._translator[1]

    def good(self) -> Good | None:
        """The newest version without errors, noting the errors of a newer one; None before any."""
        loaded = self.load()
        refused: list[str] = []
        if loaded.errors:
            refused = [d.render() for d in loaded.errors]
            if self._good is None and self.drafts:  # nothing tried yet: the saved files, if they are good
                saved = self._check({})
                if not saved.errors:
                    self._good = Good(saved, self.translator())
        else:
            try:
                translator = self.translator()
            except CatalogError as err:
                refused = [str(err)]
            else:
                if self._good is None or self._good.loaded is not loaded or self._good.translator is not translator:
                    self._good = Good(loaded, translator)
        if self._good is not None:
            self._good.refused = refused
        return self._good
