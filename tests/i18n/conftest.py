"""A small project with one text of every translatable kind, and helpers to translate it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bots.console.session import Conversation
from bots.engine import Engine, Project
from bots.i18n.translations import project_translator
from bots.loader import load_project

BOT = """\
name: Demo
start: main
source_locale: en
locales: [en, be, ru]
token_env: DEMO_TOKEN
help: "Press a button or type your answer."
"""

MAIN = """\
start: menu
nodes:
  menu:
    type: choice
    text: "What do you need?"
    options:
      - {label: "Find help", next: age}
      - {label: "Programmes", next: programmes}
      - {label: "Talk to a person", flow: shared/human}
  age:
    type: input
    kind: number
    text: "How old are you?"
    error: "Please send your age as a number."
    save: age
    next: programmes
  programmes:
    type: results
    catalog: programmes
    text: "These can help:"
    done: "Back to the menu"
    next: bye
  bye:
    type: end
    text: "Goodbye, {{ user.first_name }}."
"""

HUMAN = """\
start: connect
nodes:
  connect:
    type: handoff
    text: "A person will answer here."
    topic: "{{ bot.name }}: a question"
"""

PROGRAMMES = """\
catalog: programmes
items:
  - id: lawyers
    title: "Legal aid"
    summary: "Free consultation with a lawyer."
    contact: "@lawyers_bot"
    url: "https://example.org/legal"
"""

TESTS = """\
- name: the menu
  steps:
    - send: /start
    - expect: "What do you need?"
"""

FILES = {
    "flows/demo/bot.yaml": BOT,
    "flows/demo/main.yaml": MAIN,
    "flows/demo/tests/main.yaml": TESTS,
    "flows/shared/human.yaml": HUMAN,
    "knowledge/programmes.yaml": PROGRAMMES,
}


def _line_of(file: str, needle: str) -> int:
    text = FILES[file]
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _translate(po: Path, translations: dict[tuple[str, str], str]) -> None:
    with po.open("rb") as handle:
        catalog = read_po(handle)
    for (context, msgid), string in translations.items():
        message = catalog.get(msgid, context=context)
        assert message is not None, f"no entry {context!r} {msgid!r} in {po}"
        message.string = string
        message.flags.discard("fuzzy")
    with po.open("wb") as handle:
        write_po(handle, catalog)


@pytest.fixture
def files() -> dict[str, str]:
    """The project's files: path -> YAML text."""
    return dict(FILES)


@pytest.fixture
def line_of() -> Callable[[str, str], int]:
    """`line_of(file, needle)`: the (1-based) line of the project file holding `needle`."""
    return _line_of


@pytest.fixture
def translate() -> Callable[[Path, dict[tuple[str, str], str]], None]:
    """`translate(po, {(context, msgid): text})`: set msgstr with Babel's API, as a translator would."""
    return _translate


@pytest.fixture
def root(project_from: Callable[[dict[str, str]], Project]) -> Path:
    """The project folder, written afresh for each test (by the shared `project_from`)."""
    return project_from(FILES).root


@pytest.fixture
def loaded(root: Path) -> Callable[[], Project]:
    """Load the project (again, after changes); fail on any error."""

    def load() -> Project:
        project, diagnostics = load_project(root, display_base=root)
        assert not diagnostics.errors, "\n".join(d.render() for d in diagnostics.errors)
        return project

    return load


@pytest.fixture
def conversation(root: Path, loaded: Callable[[], Project]) -> Callable[[str], Conversation]:
    """A conversation with the demo bot in a language, with the project's translations."""

    def start(lang: str) -> Conversation:
        return Conversation(Engine(loaded(), "demo", project_translator(root)), lang=lang)

    return start
