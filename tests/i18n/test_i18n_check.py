"""`missing_translations`: the warnings `bots check` shows for untranslated texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.cli import main
from bots.i18n.check import missing_translations

# `main` configures logging
pytestmark = pytest.mark.usefixtures("_restore_logging")

RU = Path("locales/ru/LC_MESSAGES")
BE = Path("locales/be/LC_MESSAGES")
#: where the label's value starts in `      - {label: "Find help", next: age}`
FIND_HELP_COLUMN = len("      - {label: ") + 1


def warnings_of(root: Path, loaded) -> list[tuple[str, int, int, str]]:  # type: ignore[no-untyped-def]
    return missing_translations(loaded(), root / "locales", display_base=root)


def update(root: Path) -> None:
    assert main(["--project", str(root), "i18n", "update"]) == 0


def test_a_bot_without_any_translations_gets_one_summary_warning(root, loaded, line_of):
    assert warnings_of(root, loaded) == [
        (
            "flows/demo/bot.yaml",
            line_of("flows/demo/bot.yaml", "locales:"),
            10,
            "bot 'demo' offers be, ru but has no translations (run 'bots i18n update')",
        )
    ]


def test_a_bot_speaking_only_its_source_language_gets_no_warning(root, loaded):
    bot = root / "flows/demo/bot.yaml"
    bot.write_text(bot.read_text(encoding="utf-8").replace("[en, be, ru]", "[en]"), encoding="utf-8")
    assert warnings_of(root, loaded) == []


def test_catalogs_with_nothing_translated_yet_get_one_warning_per_domain(root, loaded):
    update(root)
    assert warnings_of(root, loaded) == [
        (
            "flows/demo/bot.yaml",
            1,
            1,
            "the texts of 'demo' are not translated into be, ru yet (locales/<lang>/LC_MESSAGES/demo.po)",
        ),
        (
            "flows/shared/human.yaml",
            1,
            1,
            "the texts of 'shared' are not translated into be, ru yet (locales/<lang>/LC_MESSAGES/shared.po)",
        ),
        (
            "knowledge/programmes.yaml",
            1,
            1,
            "the texts of 'knowledge' are not translated into be, ru yet (locales/<lang>/LC_MESSAGES/knowledge.po)",
        ),
    ]


def test_each_untranslated_text_is_one_warning_listing_its_languages(root, loaded, translate, line_of):
    update(root)
    ru = {("main:menu", "Find help"): "Найти помощь", ("main:menu", "What do you need?"): "Что нужно?"}
    translate(root / RU / "demo.po", ru)
    translate(root / BE / "demo.po", {("main:menu", "What do you need?"): "Што трэба?"})
    translate(root / RU / "knowledge.po", {("programmes:lawyers", "Legal aid"): "Юридическая помощь"})
    translate(root / BE / "knowledge.po", {("programmes:lawyers", "Legal aid"): "Юрыдычная дапамога"})
    found = warnings_of(root, loaded)
    by_place = {(file, line): message for file, line, _, message in found}
    main_yaml = "flows/demo/main.yaml"
    assert (main_yaml, line_of(main_yaml, '"What do you need?"')) not in by_place
    assert by_place[(main_yaml, line_of(main_yaml, "Find help"))] == "node 'menu': options[0].label has no translation in be"
    programmes = by_place[(main_yaml, line_of(main_yaml, "Programmes"))]
    assert programmes == "node 'menu': options[1].label has no translation in be, ru"
    assert by_place[(main_yaml, line_of(main_yaml, "Please send"))] == "node 'age': error has no translation in be, ru"
    done = by_place[(main_yaml, line_of(main_yaml, "Back to the menu"))]
    assert done == "node 'programmes': done has no translation in be, ru"
    assert by_place[("flows/demo/bot.yaml", line_of("flows/demo/bot.yaml", "help:"))] == "help has no translation in be, ru"
    knowledge = "knowledge/programmes.yaml"
    assert (knowledge, line_of(knowledge, "title:")) not in by_place
    assert by_place[(knowledge, line_of(knowledge, "summary:"))] == "item 'lawyers': summary has no translation in be, ru"
    assert by_place[("flows/shared/human.yaml", 1)].startswith("the texts of 'shared' are not translated into be, ru")
    assert not any(file.endswith(".py") for file, *_ in found)  # the engine's texts are not the organisers' concern
    column = next(c for f, line, c, _ in found if (f, line) == (main_yaml, line_of(main_yaml, "Find help")))
    assert column == FIND_HELP_COLUMN


def test_a_fuzzy_translation_counts_as_missing(root, loaded, translate, line_of):
    update(root)
    translate(root / RU / "demo.po", {("main:menu", "Programmes"): "Программы", ("main:menu", "Find help"): "Найти"})
    translate(root / BE / "demo.po", {("main:menu", "Programmes"): "Праграмы"})
    po = root / RU / "demo.po"
    entry = 'msgctxt "main:menu"\nmsgid "Programmes"'
    po.write_text(po.read_text(encoding="utf-8").replace(entry, "#, fuzzy\n" + entry), encoding="utf-8")
    by_place = {(file, line): message for file, line, _, message in warnings_of(root, loaded)}
    line = line_of("flows/demo/main.yaml", "Programmes")
    assert by_place[("flows/demo/main.yaml", line)] == "node 'menu': options[1].label has no translation in ru"


def test_a_language_without_its_po_file_is_one_warning_per_domain(root, loaded, translate):
    update(root)
    for po in (root / "locales/be/LC_MESSAGES").glob("*.po"):
        po.unlink()
    translate(root / RU / "demo.po", {("main:menu", "Find help"): "Найти помощь"})
    translate(root / RU / "shared.po", {("human:connect", "A person will answer here."): "Человек ответит здесь."})
    found = warnings_of(root, loaded)
    absent = [w for w in found if "have no translations in be" in w[3]]
    missing = "have no translations in be (locales/be/LC_MESSAGES/{}.po missing: run 'bots i18n update')"
    assert [(file, message) for file, _, _, message in absent] == [
        ("flows/demo/bot.yaml", "the texts of 'demo' " + missing.format("demo")),
        ("flows/shared/human.yaml", "the texts of 'shared' " + missing.format("shared")),
        ("knowledge/programmes.yaml", "the texts of 'knowledge' " + missing.format("knowledge")),
    ]
    others = [message for _, _, _, message in found if message not in {a[3] for a in absent}]
    assert others and all(" be" not in message for message in others)


def test_shared_texts_are_checked_in_the_languages_of_the_bots_that_reach_them(root, loaded, translate):
    other = root / "flows/other"
    other.mkdir()
    bot = "name: Other\nstart: main\nsource_locale: en\nlocales: [en, pl]\ntoken_env: OTHER_TOKEN\n"
    (other / "bot.yaml").write_text(bot, encoding="utf-8")
    (other / "main.yaml").write_text("start: a\nnodes:\n  a: {type: flow, flow: shared/human}\n", encoding="utf-8")
    update(root)
    assert (root / "locales/pl/LC_MESSAGES/shared.po").exists()
    assert not (root / "locales/pl/LC_MESSAGES/demo.po").exists()
    assert not (root / "locales/pl/LC_MESSAGES/knowledge.po").exists()  # no flow of 'other' shows the catalog
    found = {file: message for file, line, _, message in warnings_of(root, loaded) if line == 1}
    assert found["flows/shared/human.yaml"].startswith("the texts of 'shared' are not translated into be, ru, pl yet")
    assert found["knowledge/programmes.yaml"].startswith("the texts of 'knowledge' are not translated into be, ru yet")


def test_a_catalog_that_does_not_parse_is_reported_at_its_file(root, loaded):
    update(root)
    po = root / RU / "demo.po"
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgid "unclosed\n', encoding="utf-8")
    broken = [w for w in warnings_of(root, loaded) if w[0] == "locales/ru/LC_MESSAGES/demo.po"]
    assert len(broken) == 1 and broken[0][3].startswith("not a valid translation catalog")
