"""Counted words: `{{ n | plural('card', 'cards') }}` follows each language's plural rules."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bots.cli import main
from bots.console.session import Conversation
from bots.engine import Engine
from bots.i18n.extract import extract_flows
from bots.i18n.translations import project_translator
from bots.loader import load_project
from tests.support.engine import said
from tests.support.project import write_project

BOT = """\
name: Demo
start: main
source_locale: en
locales: [en, ru, be]
token_env: DEMO_TOKEN
"""

FLOW = """\
start: count
nodes:
  count:
    type: input
    kind: number
    text: "How many?"
    save: n
    next: show
  show:
    type: message
    text: "You chose {{ n }} {{ n | plural('card', 'cards') }}."
    next: count
"""


def test_the_source_language_uses_english_rules_without_any_catalog(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"flows/demo/bot.yaml": BOT, "flows/demo/main.yaml": FLOW})
    project, _ = load_project(root)
    c = Conversation(Engine(project, "demo"), lang="en")
    c.send("/start")
    assert "You chose 1 card." in said(c.send("1"))
    assert "You chose 4 cards." in said(c.send("4"))


def test_extraction_gives_the_counted_word_with_its_plural_and_context(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"flows/demo/bot.yaml": BOT, "flows/demo/main.yaml": FLOW})
    with (root / "flows/demo/main.yaml").open("rb") as handle:
        found = list(extract_flows(handle, [], [], {"filename": "flows/demo/main.yaml"}))
    plurals = [(line, func, messages) for line, func, messages, _ in found if func == "npgettext"]
    assert plurals == [(11, "npgettext", ("main:show", "card", "cards"))]


def test_russian_and_belarusian_get_one_few_and_many_forms(tmp_path: Path, monkeypatch) -> None:
    root = write_project(tmp_path, {"flows/demo/bot.yaml": BOT, "flows/demo/main.yaml": FLOW})
    monkeypatch.chdir(root)
    assert main(["i18n", "update"]) == 0
    words = {"ru": ("карточку", "карточки", "карточек"), "be": ("картку", "карткі", "картак")}
    for lang, forms in words.items():
        path = root / f"locales/{lang}/LC_MESSAGES/demo.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain="demo")
        for message in catalog:
            if isinstance(message.id, tuple):
                message.string = forms
            elif message.id == "You chose {{ n }} {{ n | plural('card', 'cards') }}.":
                message.string = "Вы выбрали {{ n }} {{ n | plural('card', 'cards') }}."
        with path.open("wb") as handle:
            write_po(handle, catalog)
    project, _ = load_project(root)
    engine = Engine(project, "demo", project_translator(root))
    for lang, (one, few, many) in words.items():
        c = Conversation(engine, lang=lang)
        c.send("/start")
        for number, form in ((1, one), (2, few), (4, few), (5, many), (11, many), (21, one), (22, few)):
            assert f"{number} {form}." in said(c.send(str(number))), (lang, number)
