"""A small project and a counters table filled by hand, for the tests of `bots report`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from bots.engine import Project
from bots.loader import load_project
from tests.conftest import write_project

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    bot   TEXT NOT NULL,
    day   TEXT NOT NULL,
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (bot, day, name, key)
) WITHOUT ROWID;
"""

BOT = """\
name: Demo & Co
start: main
source_locale: en
locales: [en, ru]
token_env: DEMO_TOKEN
moderators_chat_env: DEMO_MODERATORS
"""

# in the file: welcome, bye, menu, person, find, unused; in flow order (breadth first along
# targets()): welcome, menu, bye (menu's next), find, person (its options), then unused
MAIN = """\
start: welcome
nodes:
  welcome:
    type: message
    text: "Hello!"
    next: menu
  bye:
    type: end
    text: "Goodbye!"
    outcome: helped
  menu:
    type: choice
    text: "What do you need?"
    options:
      - {label: "Programmes", value: find, next: find}
      - {label: "A person", value: person, next: person}
      - {label: "Safety", value: safety, flow: lib/safety}
    next: bye
  person:
    type: handoff
    text: "A person will answer."
    next: bye
  find:
    type: results
    catalog: programmes
    text: "Programmes:"
    next: bye
  unused:
    type: message
    text: "Nothing leads here."
"""

SAFETY = """\
start: tips
nodes:
  tips:
    type: message
    text: "Keep your phone locked."
    next: more
  more:
    type: message
    text: "Use a passcode."
"""

CATALOG = """\
catalog: programmes
items:
  - id: legal
    title: "Legal aid <fund> & co"
  - id: rent
    title: "Rent help"
  - id: food
    title: "Food parcels"
"""

FILES = {
    "flows/demo/bot.yaml": BOT,
    "flows/demo/main.yaml": MAIN,
    "flows/lib/safety.yaml": SAFETY,
    "knowledge/programmes.yaml": CATALOG,
}

# (day, name, key, value) for the bot `demo`, in the ISO week 2024-W06 (5-11 February 2024)
WEEK = [
    ("2024-02-05", "people", "", 1000),
    ("2024-02-11", "people", "", 234),
    ("2024-02-05", "language", "ru", 900),
    ("2024-02-11", "language", "en", 325),
    ("2024-02-11", "language", "be", 4),
    ("2024-02-11", "language", "pl", 5),
    ("2024-02-05", "outcome", "helped", 120),
    ("2024-02-05", "outcome", "joined", 3),
    ("2024-02-05", "handoff_opened", "", 56),
    ("2024-02-05", "handoff_answered", "", 50),
    ("2024-02-05", "first_response_seconds", "", 50 * 7800),
    ("2024-02-05", "first_response_bucket", "15m", 20),
    ("2024-02-05", "first_response_bucket", "1h", 20),
    ("2024-02-05", "first_response_bucket", "4h", 8),
    ("2024-02-05", "first_response_bucket", "1d", 2),
    ("2024-02-05", "handoff_closed", "closed", 40),
    ("2024-02-05", "handoff_closed", "returned", 5),
    ("2024-02-05", "handoff_closed", "blocked", 3),
    ("2024-02-05", "closing_seconds", "", 48 * 90_000),
    ("2024-02-05", "item_shown", "programmes/legal", 300),
    ("2024-02-05", "item_opened", "programmes/legal", 30),
    ("2024-02-05", "item_shown", "programmes/rent", 200),
    ("2024-02-05", "item_opened", "programmes/rent", 12),
    ("2024-02-05", "item_opened", "programmes/food", 2),
    ("2024-02-05", "item_opened", "programmes/gone", 7),
    ("2024-02-05", "node", "demo/main:welcome", 100),
    ("2024-02-05", "node", "demo/main:menu", 80),
    ("2024-02-05", "node", "demo/main:bye", 60),
    ("2024-02-05", "node", "demo/main:find", 4),
    ("2024-02-05", "node", "demo/main:person", 20),
    ("2024-02-05", "node", "lib/safety:tips", 10),
    ("2024-02-05", "node", "lib/safety:more", 10),
    ("2024-02-05", "subscribed", "", 12),
    ("2024-02-05", "unsubscribed", "", 1),
]
# the days either side of the week: never counted in it
OUTSIDE = [
    ("2024-02-04", "people", "", 7000),
    ("2024-02-12", "people", "", 9000),
    ("2024-02-04", "outcome", "helped", 1),
    ("2024-02-12", "node", "demo/main:welcome", 500),
]


def fill(path: Path, rows: Iterable[tuple[str, str, str, float]], bot: str = "demo") -> Path:
    connection = sqlite3.connect(path)
    with connection:
        connection.executescript(SCHEMA)
        connection.executemany(
            "INSERT INTO counters (bot, day, name, key, value) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (bot, day, name, key) DO UPDATE SET value = value + excluded.value",
            [(bot, *row) for row in rows],
        )
    connection.close()
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", FILES)


@pytest.fixture
def project(root: Path) -> Project:
    loaded, diagnostics = load_project(root, display_base=root)
    assert not diagnostics.errors, [d.render() for d in diagnostics.errors]
    return loaded


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return fill(tmp_path / "bots.db", WEEK + OUTSIDE)


@pytest.fixture
def counters(tmp_path: Path) -> Callable[..., Path]:
    """A database holding just these rows (day, name, key, value) for `demo`."""

    def make(rows: Iterable[tuple[str, str, str, float]], name: str = "small.db") -> Path:
        return fill(tmp_path / name, rows)

    return make
