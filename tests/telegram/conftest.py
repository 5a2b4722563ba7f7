"""End-to-end fixtures: `bots run` as a real process (tests/support/commands.py) against the
Bot API stand-in (the `api` fixture of tests/conftest.py), on a project of a few flows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bots.testing.standin import BotApiStandin
from tests.support.commands import BotProcess
from tests.support.project import BOT_YAML, write_project

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


#: the files of the `project` fixture: the demo bot on FLOW, with its guide
PROJECT = {
    "flows/demo/bot.yaml": BOT_YAML + "moderators_chat_env: DEMO_MODERATORS\n",
    "flows/demo/main.yaml": FLOW,
    "knowledge/guide.txt": "A guide.\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", PROJECT)


@pytest.fixture
async def running(project: Path, api: BotApiStandin, tmp_path: Path) -> AsyncIterator[Callable[..., BotProcess]]:
    started: list[BotProcess] = []

    def launch(*args: str, env: dict[str, str] | None = None, db: Path | None = None) -> BotProcess:
        process = BotProcess(project, api, db or tmp_path / "bots.db", *args, env=env)
        started.append(process)
        return process

    yield launch
    for process in started:
        await process.kill_if_running()


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
