"""extract -> update -> translate -> compile -> the engine speaks it; fuzzy entries; status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bots.cli import main
from bots.i18n.translations import CatalogError, load_catalogs
from tests.support.engine import said

# `main` configures logging
pytestmark = pytest.mark.usefixtures("_restore_logging")

RU = Path("locales/ru/LC_MESSAGES")


def run(root: Path, *command: str) -> int:
    return main(["--project", str(root), "i18n", *command])


def read(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.fixture
def updated(root: Path) -> Path:
    assert run(root, "extract") == 0
    assert run(root, "update") == 0
    return root


def test_update_creates_a_catalog_per_domain_for_every_offered_language(updated):
    made = sorted(str(p.relative_to(updated / "locales")) for p in (updated / "locales").glob("*/LC_MESSAGES/*.po"))
    assert made == [f"{lang}/LC_MESSAGES/{d}.po" for lang in ("be", "ru") for d in ("bots", "demo", "knowledge", "shared")]
    assert not (updated / "locales/en").exists()  # the source language needs no catalog
    ru = read(updated / RU / "demo.po")
    assert ru.locale_identifier == "ru" and ru.num_plurals == 3
    assert "nplurals=3" in ru.plural_forms
    assert read(updated / "locales/be/LC_MESSAGES/demo.po").num_plurals == 3
    assert ru.get("Find help", context="main:menu").string == ""


def test_translated_texts_reach_the_person_and_the_rest_stays_in_english(updated, translate, conversation):
    translate(
        updated / RU / "demo.po",
        {
            ("main:menu", "What do you need?"): "Что вам нужно?",
            ("main:menu", "Find help"): "Найти помощь",
            ("main:age", "Please send your age as a number."): "Пришлите возраст числом.",
            ("bot", "Press a button or type your answer."): "Нажмите кнопку или напишите ответ.",
        },
    )
    translate(updated / RU / "knowledge.po", {("programmes:lawyers", "Legal aid"): "Юридическая помощь"})
    translate(updated / RU / "shared.po", {("human:connect", "A person will answer here."): "Человек ответит здесь."})
    translate(updated / RU / "bots.po", {("bots", "Continue"): "Продолжить"})
    assert run(updated, "compile") == 0
    assert (updated / RU / "demo.mo").exists()

    c = conversation("ru")
    assert "Что вам нужно?" in said(c.send("/start"))
    assert [b.label for b in c.buttons] == ["Найти помощь", "Programmes", "Talk to a person"]
    assert "Нажмите кнопку или напишите ответ." in said(c.send("/help"))
    assert "How old are you?" in said(c.press("Найти помощь"))  # untranslated: the English source
    assert "Пришлите возраст числом." in said(c.send("many"))
    c.send("30")
    assert [b.label for b in c.buttons] == ["Юридическая помощь", "Back to the menu"]
    assert "Юридическая помощь" in said(c.press("Юридическая помощь"))

    other = conversation("ru")
    other.send("/start")
    assert "Человек ответит здесь." in said(other.press("Talk to a person"))

    english = conversation("en")
    assert "What do you need?" in said(english.send("/start"))


def test_the_engines_own_texts_are_translated_in_the_bots_domain(root, translate, conversation):
    flow = "start: r\nnodes:\n  r: {type: results, catalog: programmes, next: e}\n  e: {type: end, text: Bye}\n"
    (root / "flows/demo/main.yaml").write_text(flow, encoding="utf-8")
    assert run(root, "update") == 0
    translate(root / RU / "bots.po", {("bots", "Continue"): "Продолжить"})
    c = conversation("ru")
    c.send("/start")
    assert [b.label for b in c.buttons] == ["Legal aid", "Продолжить"]


def test_a_changed_source_text_keeps_its_translation_marked_fuzzy(updated, translate, conversation, capsys):
    translate(updated / RU / "demo.po", {("main:menu", "What do you need?"): "Что вам нужно?"})
    main_yaml = updated / "flows/demo/main.yaml"
    main_yaml.write_text(
        main_yaml.read_text(encoding="utf-8").replace("What do you need?", "What do you need today?"), encoding="utf-8"
    )
    capsys.readouterr()
    assert run(updated, "status") == 0
    assert "texts changed since the last update" in capsys.readouterr().out

    assert run(updated, "update") == 0
    entry = read(updated / RU / "demo.po").get("What do you need today?", context="main:menu")
    assert entry.fuzzy and entry.string == "Что вам нужно?"
    assert '#| msgid "What do you need?"' in (updated / RU / "demo.po").read_text(encoding="utf-8")  # for the translator
    assert run(updated, "compile") == 0
    assert "What do you need today?" in said(conversation("ru").send("/start"))  # fuzzy is never shown

    capsys.readouterr()
    run(updated, "status")
    demo_ru = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("demo ") and " ru " in line)
    assert demo_ru.split()[2:6] == ["0", "1", "10", "11"]


def test_status_counts_translated_fuzzy_and_missing_per_domain_and_language(updated, translate, capsys):
    translate(
        updated / RU / "demo.po",
        {("main:menu", "Find help"): "Найти помощь", ("main:bye", "Goodbye, {{ user.first_name }}."): "Пока!"},
    )
    translate(updated / RU / "knowledge.po", {("programmes:lawyers", "Legal aid"): "Юридическая помощь"})
    capsys.readouterr()
    assert run(updated, "status") == 0
    rows = {tuple(line.split()[:2]): line.split()[2:6] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows[("demo", "ru")] == ["2", "0", "9", "11"]
    assert rows[("demo", "be")] == ["0", "0", "11", "11"]
    assert rows[("knowledge", "ru")] == ["1", "0", "2", "3"]
    assert rows[("shared", "ru")] == ["0", "0", "1", "1"]
    assert rows[("bots", "ru")][3] == rows[("bots", "be")][3]


def test_status_before_any_update_says_what_to_run(root, capsys):
    assert run(root, "status") == 0
    out = capsys.readouterr().out
    assert out.count("no .po file: run 'bots i18n update'") == 8


def test_running_update_again_changes_nothing(updated, capsys):
    before = {p: p.read_bytes() for p in (updated / "locales").rglob("*.po*")}
    capsys.readouterr()
    assert run(updated, "update") == 0
    assert "(updated)" not in capsys.readouterr().out
    assert {p: p.read_bytes() for p in (updated / "locales").rglob("*.po*")} == before


def test_compile_leaves_fuzzy_entries_out_and_fails_on_a_broken_catalog(updated, translate, capsys):
    translate(updated / RU / "demo.po", {("main:menu", "Find help"): "Найти помощь"})
    po = updated / RU / "demo.po"
    catalog_text = po.read_text(encoding="utf-8").replace(
        'msgctxt "main:menu"\nmsgid "Find help"', '#, fuzzy\nmsgctxt "main:menu"\nmsgid "Find help"'
    )
    po.write_text(catalog_text, encoding="utf-8")
    capsys.readouterr()
    assert run(updated, "compile") == 0
    assert "0 of 11 texts, 1 fuzzy left out" in capsys.readouterr().out
    assert load_catalogs(updated / "locales")["ru"].pgettext("main:menu", "Find help") == "Find help"

    po.write_text(catalog_text + '\nmsgid "broken\n', encoding="utf-8")
    assert run(updated, "compile") == 1
    assert "demo.po: not a valid translation catalog" in capsys.readouterr().err


def test_loading_compiles_po_files_in_memory_when_the_mo_is_missing_or_older(updated, translate):
    po = updated / RU / "demo.po"
    translate(po, {("main:menu", "Find help"): "Найти помощь"})
    assert not po.with_suffix(".mo").exists()
    assert load_catalogs(updated / "locales")["ru"].pgettext("main:menu", "Find help") == "Найти помощь"
    assert not po.with_suffix(".mo").exists()  # nothing written while loading

    assert run(updated, "compile") == 0
    translate(po, {("main:menu", "Find help"): "Искать помощь"})
    mo = po.with_suffix(".mo")
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert load_catalogs(updated / "locales")["ru"].pgettext("main:menu", "Find help") == "Искать помощь"


def test_a_po_file_that_does_not_parse_is_a_loud_error(updated):
    po = updated / RU / "demo.po"
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgid "unclosed\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="demo.po: not a valid translation catalog"):
        load_catalogs(updated / "locales")


def test_update_refuses_a_project_with_errors_and_changes_nothing(root, capsys):
    (root / "flows/demo/main.yaml").write_text("start: a\nnodes:\n  a: {type: end, text: Bye, next: b}\n", encoding="utf-8")
    assert run(root, "update") == 1
    assert "fix them first" in capsys.readouterr().err
    assert not (root / "locales").exists()


def test_the_project_is_found_from_the_current_folder(root, monkeypatch, capsys):
    monkeypatch.chdir(root / "flows" / "demo")
    assert main(["i18n", "extract"]) == 0
    assert (root / "locales" / "demo.pot").exists()
    assert main(["i18n", "status"]) == 0
    assert ["demo", "ru", "0", "0", "11", "11"] in [line.split()[:6] for line in capsys.readouterr().out.splitlines()]
