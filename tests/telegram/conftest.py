"""End-to-end fixtures: the Bot API stand-in in the test's loop, `bots run` as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bots.testing.standin import BotApiStandin
from tests.conftest import BOT_YAML, write_project

TOKEN = "123456:TEST-token-for-the-stand-in"
SECRET_KEY = "Qm90cyB0ZXN0IGtleTogMzIgYnl0ZXMgb2Ygbm90aGluZyE"  # the tests' own; never use it for real

FLOW = """\
start: colour
nodes:
  colour:
    type: choice
    text: "Hello, {{ user.first_name }}! Colour?"
    save: colour
    options:
      - {label: "Red", value: red}
      - {label: "Blue", value: blue}
    next: size
  size:
    type: input
    kind: number
    text: "Size for {{ colour }}?"
    save: size
    next: guide
  guide:
    type: message
    text: "Here is the guide."
    document: guide.txt
    next: long
  long:
    type: message
    text: "{{ 'Paragraph of words. ' * 150 }}\\n\\n{{ 'Another paragraph. ' * 150 }}"
    next: done
  done:
    type: end
    text: "Saved {{ size }} {{ colour }}."
"""


#: a flow that echoes what it is told: the crash and several-worker tests count its answers
ECHO = """\
start: ask
nodes:
  ask:
    type: input
    text: "Say something"
    save: said
    next: echo
  echo:
    type: message
    text: "You said {{ said }}"
    next: ask
"""


class BotProcess:
    """`bots run` in a subprocess, against the stand-in."""

    def __init__(self, project: Path, api: BotApiStandin, db: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.project = project
        self.api = api
        self.db = db
        self.args = args
        self.env = env
        self.global_args: tuple[str, ...] = ()
        self.process: asyncio.subprocess.Process | None = None
        self._stderr = bytearray()
        self._more = asyncio.Event()  # set whenever stderr grows
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> BotProcess:
        env = {
            **os.environ,
            "TELEGRAM_API_URL": self.api.base_url,
            "DEMO_TOKEN": TOKEN,
            "BOTS_DB": str(self.db),
            "PTB_TIMEDELTA": "true",
            "BOTS_SECRET_KEY": SECRET_KEY,
            **(self.env or {}),
        }
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots",
            *self.global_args,
            "run",
            *self.args,
            cwd=self.project,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            asyncio.create_task(self._drain(self.process.stdout, None)),
            asyncio.create_task(self._drain(self.process.stderr, self._stderr)),
        ]
        return self

    async def _drain(self, stream: asyncio.StreamReader, into: bytearray | None) -> None:
        while chunk := await stream.read(65536):
            if into is not None:
                into += chunk
                self._more.set()

    def _logged(self, text: str) -> int:
        return self._stderr.decode(errors="replace").count(text)

    async def logged(self, text: str, count: int = 1, timeout: float = 15) -> None:
        """Wait until the process has written `text` to stderr `count` times in all: a barrier
        for what it logs (a reload done), instead of sleeping for long enough."""

        async def seen() -> None:
            while self._logged(text) < count:
                self._more.clear()
                if self._logged(text) < count:
                    await self._more.wait()

        try:
            await asyncio.wait_for(seen(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"not logged {count} time(s) in {timeout} s: {text!r}\n{self._stderr.decode(errors='replace')}"
            ) from None

    async def _ended(self, timeout: float) -> tuple[int, str]:
        assert self.process is not None
        await asyncio.wait_for(asyncio.gather(self.process.wait(), *self._readers), timeout)
        return self.process.returncode or 0, self._stderr.decode()

    async def wait(self, timeout: float = 30) -> tuple[int, str]:
        """Let the process end by itself; its exit status and what it printed on stderr."""
        return await self._ended(timeout)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> tuple[int, str]:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await self._ended(timeout)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    bot_yaml = BOT_YAML + "moderators_chat_env: DEMO_MODERATORS\n"
    root = write_project(tmp_path / "project", {"flows/demo/bot.yaml": bot_yaml, "flows/demo/main.yaml": FLOW})
    (root / "knowledge").mkdir(exist_ok=True)
    (root / "knowledge" / "guide.txt").write_text("A guide.\n")
    return root


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandin]:
    async with BotApiStandin(tokens=[TOKEN]) as standin:
        yield standin


@pytest.fixture
async def running(project: Path, api: BotApiStandin, tmp_path: Path) -> AsyncIterator[Callable[..., BotProcess]]:
    started: list[BotProcess] = []

    def launch(*args: str, env: dict[str, str] | None = None, db: Path | None = None) -> BotProcess:
        process = BotProcess(project, api, db or tmp_path / "bots.db", *args, env=env)
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.process is not None and process.process.returncode is None:
            await process.stop(signal.SIGKILL)


# --- a project with a moderators' desk (issue 5) -------------------------------------------

DESK_FLOW = """\
start: menu
nodes:
  menu:
    type: choice
    text: "What do you need?"
    save: need
    options:
      - {label: "Talk to a person", value: talk, next: region}
      - {label: "Apply", value: apply, next: apply}
  region:
    type: input
    text: "Your region?"
    save: region
    next: story
  story:
    type: input
    text: "What happened? (kept private)"
    save: story
    sensitive: true
    next: human
  human:
    type: handoff
    text: "A person will answer here."
    topic: "Help: {{ region }}"
    next: after
  after:
    type: choice
    text: "Anything else?"
    options:
      - {label: "Menu", value: menu, next: menu}
  apply:
    type: handoff
    text: "Your application has gone to the coordinators."
    topic: "Application"
    accept: welcome
    decline: sorry
    next: menu
  welcome:
    type: end
    text: "You are accepted! Next step: the introduction course on Monday."
    outcome: accepted
  sorry:
    type: end
    text: "Sorry, the coordinators cannot take you on now."
    outcome: declined
"""

CANNED = """\
canned:
  hours: "Our lawyers answer on weekdays, 10:00 to 19:00."
"""


@pytest.fixture
def desk_project(tmp_path: Path) -> Path:
    root = write_project(
        tmp_path / "desk",
        {
            "flows/demo/bot.yaml": BOT_YAML + "moderators_chat_env: DEMO_MODERATORS\n",
            "flows/demo/main.yaml": DESK_FLOW,
            "knowledge/canned.yaml": CANNED,
        },
    )
    return root


@pytest.fixture
async def desk(desk_project: Path, api: BotApiStandin, tmp_path: Path) -> AsyncIterator[Callable[..., BotProcess]]:
    started: list[BotProcess] = []

    def launch(group_id: int | None) -> BotProcess:
        env = {"DEMO_MODERATORS": str(group_id) if group_id is not None else ""}
        process = BotProcess(desk_project, api, tmp_path / "bots.db", "--pace", "off", env=env)
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.process is not None and process.process.returncode is None:
            await process.stop()


async def escalate(api: BotApiStandin, who, region: str = "Minsk") -> None:
    await api.send_text(who, "/start")
    [menu] = await api.wait_for_messages(who, 1, timeout=15)
    await api.press(who, menu, "Talk to a person")
    await api.wait_for_messages(who, 1, timeout=10)
    await api.send_text(who, region)
    await api.wait_for_messages(who, 1, timeout=10)
    await api.send_text(who, "They took my phone at the border")
    [told] = await api.wait_for_messages(who, 1, timeout=10)
    assert told.text == "A person will answer here."
