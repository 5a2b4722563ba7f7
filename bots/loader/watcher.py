"""Live reload: a saved change in `flows/`, `knowledge/` or `locales/` goes live without a restart.

The watcher notices a change (file times and sizes, checked every second: nothing to
install, works on every system and on network drives), waits until the files stop
changing, then loads and checks the whole project as `bots check` does. A project with
errors is refused: the running version stays, and the errors are logged in the same form
as `bots check` prints them. A good one replaces the running version between two steps:
each conversation's next step uses it. A conversation standing on a node that no longer
exists is told the dialogue changed and starts again (the engine does that); the others
carry on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bots.engine.i18n import Translator
from bots.engine.project import Project
from bots.i18n.translations import CatalogError, project_translator
from bots.loader import load_project

log = logging.getLogger(__name__)

WATCHED = ("flows", "knowledge", "locales")
SUFFIXES = (".yaml", ".yml", ".po")
SETTLE = 0.3  # seconds without further change before a change is read


@dataclass(frozen=True)
class Version:
    """A loaded, checked project and its translations."""

    project: Project
    translator: Translator
    warnings: int


Snapshot = dict[str, tuple[int, int]]


class ProjectWatcher:
    def __init__(self, root: Path, *, interval: float = 1.0) -> None:
        self.root = root
        self.interval = interval
        self.snapshot = self.scan()

    def scan(self) -> Snapshot:
        """Every watched file with its modification time and size."""
        found: Snapshot = {}
        for folder in WATCHED:
            base = self.root / folder
            for directory, _, files in os.walk(base):
                for name in files:
                    path = os.path.join(directory, name)
                    if folder == "knowledge" or name.endswith(SUFFIXES):  # documents count too
                        try:
                            info = os.stat(path)
                        except OSError:
                            continue
                        found[path] = (info.st_mtime_ns, info.st_size)
        return found

    def changed(self) -> bool:
        """Whether anything changed since the last call (or since the start)."""
        current = self.scan()
        if current == self.snapshot:
            return False
        self.snapshot = current
        return True

    def load(self) -> Version | list[str]:
        """The project as it is now, or the errors (as `bots check` prints them) that stop it."""
        project, diagnostics = load_project(self.root, display_base=self.root)
        if diagnostics.errors:
            return [d.render() for d in diagnostics.errors]
        try:
            translator = project_translator(self.root)
        except CatalogError as err:
            return [str(err)]
        return Version(project, translator, len(diagnostics) - len(diagnostics.errors))

    async def settled(self) -> None:
        """Wait until the files stop changing (an editor saving several files, a git pull)."""
        while True:
            await asyncio.sleep(SETTLE)
            if not self.changed():
                return

    async def watch(self, apply: Callable[[Version], None], refused: Callable[[list[str]], None] | None = None) -> None:
        """Run until cancelled: apply each good change, log and refuse each bad one (and
        tell `refused` its errors)."""
        while True:
            await asyncio.sleep(self.interval)
            if not self.changed():
                continue
            await self.settled()
            outcome = await asyncio.to_thread(self.load)
            if isinstance(outcome, Version):
                apply(outcome)
                log.info("reloaded the flows after a change (%d warning(s))", outcome.warnings)
            else:
                if refused is not None:
                    refused(outcome)
                log.error("a change was refused: %d error(s); the running version stays", len(outcome))
                for line in outcome:
                    log.error("%s", line)
