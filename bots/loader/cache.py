"""What reading organisers' files gives, kept by each file's content, so that loading a project
again parses only the files that changed.

Kept, for each YAML file, under a hash of how messages name the file and of its text: the
parsed document (data and positions), its duplicate-key errors or its syntax error; and,
for every template and expression of the project, whether it parses and which variables it
reads (`expressions.facts_of`). Never kept: the checks that look across files (targets,
flows called, catalogs, reachability, variables, tests). They run on every load, over the
kept documents, so that a change to one file is found wherever it matters: a node removed
from one flow is still an error in the flow that jumps to it.

In memory, every load of the process shares it: `bots check`, `bots chat` and its reloads,
the live reload of `bots run`, `bots studio`, the tests. On disk, `load_project` keeps one
file per project in the cache folder (`$BOTS_CACHE_DIR`, else `$XDG_CACHE_HOME/bots`, else
`~/.cache/bots`; `BOTS_CACHE_DIR=off` keeps nothing on disk), so that the next process
(another `bots check`, `bots chat`) finds the unchanged files parsed. That file:

- holds only what came from the project's files as they were read: never unsaved text
  (`bots studio`'s drafts), never a file whose text looks like a bot token or a long key,
  never anything about people (the loader reads no conversation);
- holds the files of the last load only: a file removed or changed is dropped at the next
  load, and the whole file is ignored after any change to the code (`code_version`: the
  bytes of every module of the package and the versions of what parses);
- is written atomically (a new file renamed over the old), owned by the user and readable
  by nobody else, and read only from a folder and file no one else can write, because it
  is a pickle;
- is deleted when unused for `KEEP_DAYS`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import re
import stat
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bots.engine import expressions
from bots.engine.project import Project

T = TypeVar("T")
ENV = "BOTS_CACHE_DIR"
#: what memory keeps: the parses of the last texts seen, up to this much text in all (a parse
#: takes some 20 times the text's size; `bots studio` parses every draft typed)
MEMORY_TEXT = 2_000_000
KEEP_DAYS = 30
#: texts that may hold a secret (a Telegram token, a long key) are never written to disk
_SECRET_LIKE = re.compile(r"\d{5,12}:[A-Za-z0-9_-]{30,}|[A-Za-z0-9+/_=-]{40,}")


@dataclass
class Stats:
    """What the cache did since the process started (tests and benchmarks read it)."""

    parsed: int = 0  # files parsed because their content was not kept
    reused: int = 0  # files whose kept parse was used
    disk_reads: int = 0
    disk_writes: int = 0


STATS = Stats()


@dataclass
class _Load:
    """One `load_project`: the kept parses it used of files read from disk."""

    used: dict[str, Any] = field(default_factory=dict)
    parsed: bool = False


_memory: OrderedDict[str, tuple[Any, int]] = OrderedDict()  # key -> (outcome, length of the text)
_memory_text = [0]
_lock = threading.Lock()
_current: ContextVar[_Load | None] = ContextVar("bots_loader_cache_load", default=None)
#: per cache file: the keys it holds (as this process last read or wrote it)
_on_disk: dict[Path, frozenset[str]] = {}


def remembered(name: str, text: str, make: Callable[[], T], *, from_file: bool) -> T:
    """`make()` for this file's `text` (named `name` in messages), or what it gave before.

    `from_file`: the text is the file's, as read from disk (only such parses go to disk).
    What is returned is shared: callers must not change it.
    """
    key = hashlib.sha256(f"{name}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
    with _lock:
        kept = _memory.get(key)
        if kept is not None:
            _memory.move_to_end(key)
    load = _current.get()
    if kept is not None:
        outcome = kept[0]
        STATS.reused += 1
    else:
        outcome = make()
        STATS.parsed += 1
        _keep(key, outcome, len(text))
        if load is not None and from_file:
            load.parsed = True
    if load is not None and from_file and not _SECRET_LIKE.search(text):
        load.used[key] = (outcome, len(text))
    return outcome


def _keep(key: str, outcome: Any, size: int) -> None:
    with _lock:
        if key in _memory:
            return
        _memory[key] = (outcome, size)
        _memory_text[0] += size
        while _memory_text[0] > MEMORY_TEXT and len(_memory) > 1:
            _, (_, dropped) = _memory.popitem(last=False)
            _memory_text[0] -= dropped


def forget() -> None:
    """Forget everything kept in memory (benchmarks measure cold and disk-warm loads with it)."""
    with _lock:
        _memory.clear()
        _memory_text[0] = 0
        _on_disk.clear()
    expressions.clear_caches()


# --- on disk ------------------------------------------------------------------------------------


def cache_dir() -> Path | None:
    """The folder for the cache files, or None when nothing is kept on disk."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bots"


@functools.cache
def code_version() -> str:
    """A hash of the package's code and of the versions of what parses: kept parses and facts
    are used only by the code that made them."""
    import jinja2
    import pydantic
    import yaml

    digest = hashlib.sha256()
    digest.update(f"{sys.version}\0{yaml.__version__}\0{pydantic.VERSION}\0{jinja2.__version__}".encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _file_for(directory: Path, root: Path, display_base: Path) -> Path:
    where = f"{root.resolve()}\0{display_base.resolve()}".encode("utf-8", "surrogatepass")
    return directory / f"{hashlib.sha256(where).hexdigest()[:32]}.pickle"


def _private(info: os.stat_result) -> bool:
    owner = getattr(os, "getuid", lambda: info.st_uid)()
    return info.st_uid == owner and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path) -> tuple[dict[str, Any], dict[Any, Any]] | None:
    """The kept parses and facts in `path`, or None when it is missing, foreign, of other code
    or unreadable (a cache never stops a load)."""
    try:
        if not _private(os.stat(path.parent)):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as stream:
            if not _private(os.fstat(stream.fileno())):
                return None
            if pickle.load(stream) != {"version": code_version()}:
                return None
            entries, facts = pickle.load(stream)
    except Exception:  # truncated, or written by a different Python: as if there were none
        return None
    STATS.disk_reads += 1
    with contextlib.suppress(OSError):
        if os.stat(path).st_mtime < time.time() - 86400:
            os.utime(path)  # in use: not to be pruned (access times are not kept everywhere)
    return entries, facts


def _write(path: Path, entries: dict[str, Any], facts: dict[Any, Any]) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as stream:
                pickle.dump({"version": code_version()}, stream, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump((entries, facts), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        STATS.disk_writes += 1
        _prune(path.parent)
    except OSError:
        return  # a read-only home, a full disk: the next load parses again, that is all


def _prune(directory: Path) -> None:
    """Delete cache files not used for `KEEP_DAYS` (projects moved or deleted)."""
    old = time.time() - KEEP_DAYS * 86400
    with os.scandir(directory) as found:
        for entry in found:
            with contextlib.suppress(OSError):
                if entry.name.endswith(".pickle") and entry.stat(follow_symlinks=False).st_mtime < old:
                    os.unlink(entry.path)


def _sources(project: Project) -> Iterator[tuple[bool, str]]:
    """Every (is it a template, source) whose facts the checks use."""
    for bot in project.bots.values():
        if bot.config.help:
            yield True, bot.config.help
        for flow in bot.flows.values():
            for node in flow.nodes.values():
                for _, text in node.templates():
                    yield True, text
                for _, source in node.expressions():
                    yield False, source
    for text in project.canned.values():
        yield True, text


@contextlib.contextmanager
def loading(root: Path, display_base: Path) -> Iterator[Callable[[Project], None]]:
    """Around one load of the project at `root`: takes what the cache file holds (once per
    process) and, when the load parsed anything or the files are not those kept, writes the
    parses it used and the facts of the project's texts. Yields what to call with the loaded
    project once it is checked."""
    directory = cache_dir()
    if directory is None:
        yield lambda project: None
        return
    path = _file_for(directory, root, display_base)
    with _lock:
        known = _on_disk.get(path)
    if known is None:
        kept = _read(path)
        known = frozenset()
        if kept is not None:
            entries, facts = kept
            expressions.learn_facts(facts)
            for key, (outcome, size) in entries.items():
                _keep(key, outcome, size)
            known = frozenset(entries)
        with _lock:
            _on_disk[path] = known
    load = _Load()
    worked_out = expressions.facts_worked_out()
    checked: list[Project] = []
    token = _current.set(load)
    try:
        yield checked.append
    finally:
        _current.reset(token)
    if not checked:
        return  # the load failed: keep what was there
    if load.parsed or frozenset(load.used) != known or expressions.facts_worked_out() != worked_out:
        facts = expressions.facts_of(_sources(checked[0]))
        _write(path, load.used, facts)
        with _lock:
            _on_disk[path] = frozenset(load.used)
