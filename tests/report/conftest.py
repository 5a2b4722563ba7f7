"""A small project and a counters table filled by hand, for the tests of `bots report`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from bots.engine import Project
from bots.loader import load_project
from tests.support.project import write_project

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

Row = tuple[str, str, str, float]  # (day, name, key, value)
MONDAY, SUNDAY = "2024-02-05", "2024-02-11"  # of the ISO week 2024-W06


def on(day: str, *counts: tuple[str, str, float]) -> list[Row]:
    """The counts (name, key, value) as rows of the counters for `day`."""
    return [(day, *count) for count in counts]


# for the bot `demo`, in the ISO week 2024-W06 (5-11 February 2024)
WEEK = on(
    SUNDAY,
    ("people", "", 234),
    ("language", "en", 325),
    ("language", "be", 4),
    ("language", "pl", 5),
) + on(
    MONDAY,
    ("people", "", 1000),
    ("language", "ru", 900),
    ("outcome", "helped", 120),
    ("outcome", "joined", 3),
    ("handoff_opened", "", 56),
    ("handoff_answered", "", 50),
    ("first_response_seconds", "", 50 * 7800),
    ("first_response_bucket", "15m", 20),
    ("first_response_bucket", "1h", 20),
    ("first_response_bucket", "4h", 8),
    ("first_response_bucket", "1d", 2),
    ("handoff_closed", "closed", 40),
    ("handoff_closed", "returned", 5),
    ("handoff_closed", "blocked", 3),
    ("closing_seconds", "", 48 * 90_000),
    ("item_shown", "programmes/legal", 300),
    ("item_opened", "programmes/legal", 30),
    ("item_shown", "programmes/rent", 200),
    ("item_opened", "programmes/rent", 12),
    ("item_opened", "programmes/food", 2),
    ("item_opened", "programmes/gone", 7),
    ("node", "demo/main:welcome", 100),
    ("node", "demo/main:menu", 80),
    ("node", "demo/main:bye", 60),
    ("node", "demo/main:find", 4),
    ("node", "demo/main:person", 20),
    ("node", "lib/safety:tips", 10),
    ("node", "lib/safety:more", 10),
    # the moves out of each node (20 stopped at welcome, 15 at menu, 5 at person, 60 at the end)
    ("edge", "demo/main:welcome>demo/main:menu", 80),
    ("edge", "demo/main:menu>demo/main:bye", 31),
    ("edge", "demo/main:menu>demo/main:person", 20),
    ("edge", "demo/main:menu>demo/main:find", 4),
    ("edge", "demo/main:menu>lib/safety:tips", 10),
    ("edge", "demo/main:person>demo/main:bye", 15),
    ("edge", "demo/main:find>demo/main:bye", 4),
    ("edge", "lib/safety:tips>lib/safety:more", 10),
    ("edge", "lib/safety:more>demo/main:bye", 10),
    ("subscribed", "", 12),
    ("unsubscribed", "", 1),
)
# the days either side of the week: never counted in it
OUTSIDE = [
    ("2024-02-04", "people", "", 7000),
    ("2024-02-12", "people", "", 9000),
    ("2024-02-04", "outcome", "helped", 1),
    ("2024-02-12", "node", "demo/main:welcome", 500),
]


def fill(path: Path, rows: Iterable[Row], bot: str = "demo") -> Path:
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
    """A database holding just these counts (name, key, value), all on the Monday of 2024-W06,
    for `bot` (default: `demo`)."""

    def make(counts: Iterable[tuple[str, str, float]], bot: str = "demo") -> Path:
        return fill(tmp_path / f"{bot}.db", on(MONDAY, *counts), bot=bot)

    return make
