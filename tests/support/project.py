"""A project written to a folder: the `demo` bot's bot.yaml and whatever files a test gives."""

from __future__ import annotations

import textwrap
from pathlib import Path

BOT_YAML = """\
name: Demo
start: main
source_locale: en
locales: [en, ru]
token_env: DEMO_TOKEN
"""


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path relative to `root` -> text, dedented) and return `root`; the demo
    bot's bot.yaml is BOT_YAML unless `files` gives its own."""
    files = {"flows/demo/bot.yaml": BOT_YAML, **files}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def add_to_bot_yaml(root: Path, lines: str, bot: str = "demo") -> None:
    """Append settings to a bot's bot.yaml (written before the bots start, or for a reload)."""
    bot_yaml = root / "flows" / bot / "bot.yaml"
    bot_yaml.write_text(bot_yaml.read_text(encoding="utf-8") + lines, encoding="utf-8")


#: a flow whose second node's template fails at run time (a number has no `.bad`): the engine
#: must apologise, keep the state, and report the problem once
FAILING_TEMPLATE = """\
start: ask
nodes:
  ask:
    type: input
    kind: number
    text: "Number?"
    save: n
    next: show
  show:
    type: message
    text: "{{ n.bad.attribute() }}"
"""
