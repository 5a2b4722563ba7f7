"""Shared fixtures: tiny projects written to a temporary folder, the Bot API stand-in, and no
network but loopback. The helpers they call are in tests/support/."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bots.console.session import Conversation
from bots.engine import Engine, Project
from bots.loader import load_project
from bots.testing.standin import BotApiStandin
from tests.support.project import write_project
from tests.support.standin import standin

# python-telegram-bot 22 warns (an error here) unless durations are opted in as timedeltas
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture
def project_from(tmp_path: Path) -> Callable[..., Project]:
    """Load a project from files; fail the test on any error in them."""

    def load(files: dict[str, str]) -> Project:
        project, diagnostics = load_project(write_project(tmp_path, files), display_base=tmp_path)
        assert not diagnostics.errors, "\n".join(d.render() for d in diagnostics.errors)
        return project

    return load


@pytest.fixture
def chat(project_from: Callable[..., Project]) -> Callable[..., Conversation]:
    """A conversation with the `demo` bot whose main flow is `main` (YAML text)."""

    def start(main: str, lang: str | None = "en", **files: str) -> Conversation:
        project = project_from({"flows/demo/main.yaml": main, **files})
        return Conversation(Engine(project, "demo"), lang=lang)

    return start


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandin]:
    """The Bot API stand-in in the test's loop, for the demo bot's token (tests/support/standin.py)."""
    async with standin() as started:
        yield started


# --- running in parallel (pytest-xdist; `-n auto` is in pyproject's addopts) -------------------

#: the longest files (measured with --durations), longest first: they start first, so that in a
#: parallel run the short tests fill in beside them instead of one of them starting last; the
#: order changes only how soon a run ends, never what runs
LONGEST_FIRST = (
    "tests/test_types.py",  # mypy over the package: a core for 10-30 s
    "tests/telegram/test_crash.py",  # then the single tests of 10-20 s (a burst at Telegram's pace)
    "tests/telegram/test_workers.py",
    "tests/test_broadcast.py",
    "tests/telegram/test_backup.py",
    "tests/studio/test_browser.py",  # 7 tests in a row on one browser
    "tests/telegram/test_run.py",  # then files of many tests of 3-8 s
    "tests/telegram/test_privacy.py",
    "tests/telegram/test_admin.py",
    "tests/telegram/test_moderators.py",
    "tests/telegram/test_counters.py",
    "tests/standin/test_standin.py",
)
#: files whose tests share one module-scoped browser and go on from each other's state: kept
#: together, in order, on one worker
ONE_WORKER = {"tests/studio/test_browser.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """xdist's `load` (the default with `-n`), test by test, except that the files of
    ONE_WORKER go to one worker whole. (xdist's own `loadgroup` cannot do it with this pytest:
    it marks the tests by renaming their node ids, which pytest 9 no longer lets it do.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class PerTestScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.partition("::")[0]
            return file if file in ONE_WORKER else nodeid

    return PerTestScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: two workers per core (at least two). Most tests wait on a subprocess, the
    Bot API stand-in or Telegram's pace far more than they compute, so a 2-core machine finished
    the suite fastest with 4 workers (README: running the tests)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own reading of the variable
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(2, 2 * cores)


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.partition("::")[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest files first (see above); the same order in every worker, as xdist requires."""
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    position = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(_file_of(item), len(rank)), position[id(item)]))


@pytest.fixture(scope="session", autouse=True)
def _loader_cache_in_temp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The loader's disk cache (bots.loader.cache) in this session's (this xdist worker's)
    temporary folder, for the tests and the commands they start, never in the home folder."""
    previous = os.environ.get("BOTS_CACHE_DIR")
    os.environ["BOTS_CACHE_DIR"] = str(tmp_path_factory.mktemp("loader-cache"))
    yield
    if previous is None:
        os.environ.pop("BOTS_CACHE_DIR", None)
    else:
        os.environ["BOTS_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach beyond this machine (PTB's tests do the same)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
            if not (host.startswith("127.") or host in ("::1", "localhost")):
                raise OSError(f"test tried to reach {host}: tests may only use loopback")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def _restore_logging() -> Iterator[None]:
    """`cli.main` configures logging; leave the root logger as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# --- a throw-away PostgreSQL server (tests/support/postgres.py) ------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One PostgreSQL server for the session (per xdist worker); skipped, with the reason,
    where none can be started."""
    from tests.support import postgres

    reason = postgres.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = postgres.start_server()
    try:
        yield server
    finally:
        postgres.remove(server)


@pytest.fixture
def postgres_url(postgres_server: object) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.new_database()  # type: ignore[attr-defined]
