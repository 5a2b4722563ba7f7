"""Golden conversations: a person's lines in, the bot's lines out, compared exactly.

A file `tests/golden/<bot>/<name>.txt` alternates the person's turns (`> text` typed,
`> [Label]` a button pressed) with what the bot answered. To accept new output after an
intended change, run `BOTS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden` and
read the diff before committing; never edit the expected lines by hand.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from bots.console.session import Conversation
from bots.console.transcript import plain_lines
from bots.engine import Engine
from bots.i18n.translations import project_translator
from bots.loader import load_project

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
FIXED_NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
CASES = sorted(HERE.glob("*/*.txt"))


def replay(bot: str, turns: list[str], lang: str | None) -> list[str]:
    project, diagnostics = load_project(ROOT)
    assert not diagnostics.errors
    conversation = Conversation(Engine(project, bot, project_translator(ROOT)), lang=lang, clock=lambda: FIXED_NOW)
    lines: list[str] = []
    for turn in turns:
        lines.append(f"> {turn}")
        if turn.startswith("[") and turn.endswith("]"):
            outputs = conversation.press(turn[1:-1])
        else:
            outputs = conversation.send(turn)
        for line in plain_lines(outputs):
            lines += line.split("\n")
    return lines


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_golden_conversation(case: Path) -> None:
    text = case.read_text(encoding="utf-8").splitlines()
    header = [line for line in text if line.startswith("# ")]
    lang = next((line.split(":", 1)[1].strip() for line in header if line.startswith("# lang:")), None)
    turns = [line[2:] for line in text if line.startswith("> ")]
    actual = replay(case.parent.name, turns, lang)
    if os.environ.get("BOTS_UPDATE_GOLDEN") == "1":
        case.write_text("\n".join(header + actual) + "\n", encoding="utf-8")
        return
    expected = [line for line in text if not line.startswith("# ")]
    assert actual == expected


def test_there_are_golden_conversations() -> None:
    assert len(CASES) >= 3
