"""Extraction: every translatable text, with its context and its line, through Babel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import bots.engine.texts
from bots.cli import main
from bots.engine.texts import BUILTIN
from bots.i18n.extract import read_texts

# `main` configures logging
pytestmark = pytest.mark.usefixtures("_restore_logging")

REPO = Path(__file__).resolve().parents[2]
FLOWS = "bots.i18n.extract:extract_flows"


def extracted(path: Path) -> list[tuple[int, str, str | None]]:
    return [(line, message, context) for line, message, _, context in extract_from_file(FLOWS, path)]


def test_flow_texts_carry_the_flow_and_node_as_context_and_their_line(root, line_of):
    file = "flows/demo/main.yaml"
    found = extracted(root / file)
    expected = [
        (line_of(file, '"What do you need?"'), "What do you need?", "main:menu"),
        (line_of(file, "Find help"), "Find help", "main:menu"),
        (line_of(file, "Programmes"), "Programmes", "main:menu"),
        (line_of(file, "Talk to a person"), "Talk to a person", "main:menu"),
        (line_of(file, "How old are you?"), "How old are you?", "main:age"),
        (line_of(file, "Please send your age"), "Please send your age as a number.", "main:age"),
        (line_of(file, "These can help:"), "These can help:", "main:programmes"),
        (line_of(file, "Back to the menu"), "Back to the menu", "main:programmes"),
        (line_of(file, "Goodbye"), "Goodbye, {{ user.first_name }}.", "main:bye"),
    ]
    assert found == expected


def test_handoff_text_is_extracted_but_not_its_topic(root, line_of):
    found = extracted(root / "flows/shared/human.yaml")
    assert found == [(line_of("flows/shared/human.yaml", "A person will"), "A person will answer here.", "human:connect")]


def test_catalog_titles_summaries_and_contacts_carry_catalog_and_item(root, line_of):
    file = "knowledge/programmes.yaml"
    assert extracted(root / file) == [
        (line_of(file, "title:"), "Legal aid", "programmes:lawyers"),
        (line_of(file, "summary:"), "Free consultation with a lawyer.", "programmes:lawyers"),
        (line_of(file, "contact:"), "@lawyers_bot", "programmes:lawyers"),
    ]


def test_bot_help_has_the_context_bot_and_tests_give_nothing(root, line_of):
    assert extracted(root / "flows/demo/bot.yaml") == [
        (line_of("flows/demo/bot.yaml", "name:"), "Demo", "bot"),
        (line_of("flows/demo/bot.yaml", "help:"), "Press a button or type your answer.", "bot"),
    ]
    assert extracted(root / "flows/demo/tests/main.yaml") == []


def test_the_flow_id_key_names_the_context():
    found = read_texts('id: welcome\nstart: a\nnodes:\n  a: {type: end, text: "Bye"}\n', "flows/x/other.yaml")
    assert [(t.context, t.message, t.line) for t in found.texts] == [("welcome:a", "Bye", 4)]


def test_a_node_that_does_not_validate_is_left_out():
    text = 'start: a\nnodes:\n  a: {type: end, text: "Bye"}\n  b: {type: message}\n  c: {type: nope, text: "x"}\n'
    assert [t.message for t in read_texts(text, "main.yaml").texts] == ["Bye"]


def test_translators_get_a_comment_naming_the_place_and_keeping_templates(root):
    comments = {m: c for _, m, c, _ in extract_from_file(FLOWS, root / "flows/demo/main.yaml")}
    assert comments["Programmes"] == ["node 'menu': options[1].label"]
    assert comments["Goodbye, {{ user.first_name }}."][0] == "node 'bye': text"
    assert "{{ }}" in comments["Goodbye, {{ user.first_name }}."][1]


def test_a_file_that_is_not_yaml_is_a_clear_error(tmp_path):
    bad = tmp_path / "main.yaml"
    bad.write_text('start: a\nnodes:\n  a: {type: end, text: "Bye}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"main.yaml:\d+:\d+"):
        extract_from_file(FLOWS, bad)


def test_engine_texts_are_extracted_with_the_context_bots_and_their_lines():
    path = Path(bots.engine.texts.__file__)
    found = extract_from_file("bots.i18n.extract:extract_builtin", path)
    assert [m for _, m, _, _ in found] == list(BUILTIN.values())
    assert {c for _, _, _, c in found} == {"bots"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = {
        ast.literal_eval(k): v.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for k, v in zip(node.keys, node.values, strict=True)
    }
    assert [line for line, *_ in found] == [lines[key] for key in BUILTIN]


def test_the_mapping_file_works_with_plain_babel(root):
    with (REPO / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    found = {(file, message, context) for file, _, message, _, context in extract_from_dir(root, method_map, options_map)}
    assert ("flows/demo/main.yaml", "Find help", "main:menu") in found
    assert ("flows/shared/human.yaml", "A person will answer here.", "human:connect") in found
    assert ("knowledge/programmes.yaml", "Legal aid", "programmes:lawyers") in found
    assert ("flows/demo/bot.yaml", "Press a button or type your answer.", "bot") in found
    assert not any(file.startswith("flows/demo/tests/") for file, _, _ in found)


def test_extract_writes_one_template_per_bot_shared_folder_knowledge_and_engine(root, line_of, capsys):
    assert main(["--project", str(root), "i18n", "extract"]) == 0
    locales = root / "locales"
    assert sorted(p.name for p in locales.glob("*.pot")) == ["bots.pot", "demo.pot", "knowledge.pot", "shared.pot"]
    with (locales / "demo.pot").open("rb") as handle:
        demo = read_po(handle)
    label = demo.get("Find help", context="main:menu")
    assert label is not None and label.locations == [("flows/demo/main.yaml", line_of("flows/demo/main.yaml", "Find help"))]
    assert demo.get("Press a button or type your answer.", context="bot") is not None
    assert "Legal aid" not in {m.id for m in demo}  # catalog texts are in `knowledge`
    with (locales / "knowledge.pot").open("rb") as handle:
        assert {(m.id, m.context) for m in read_po(handle) if m.id} == {
            ("Legal aid", "programmes:lawyers"),
            ("Free consultation with a lawyer.", "programmes:lawyers"),
            ("@lawyers_bot", "programmes:lawyers"),
        }
    with (locales / "bots.pot").open("rb") as handle:
        assert {m.id for m in read_po(handle) if m.id} == set(BUILTIN.values())
    assert f"{root / 'locales' / 'demo.pot'}: 11 texts (new)" in capsys.readouterr().out
