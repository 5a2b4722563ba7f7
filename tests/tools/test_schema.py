"""`bots schema`: JSON Schemas generated from the loader's models, and the files that name them.

Every shipped YAML file must validate against its schema as an editor reads it (YAML 1.2,
where `yes` and `2027-12-31` are plain text), must name it on its first line, and the
schemas in `schemas/` must be exactly what `bots schema` writes today.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bots import cli
from bots.loader import load_project
from bots.tools import schema
from tests.support.project import write_project

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "broken"
SHIPPED = list(schema.organisers_files(ROOT))


class EditorLoader(yaml.SafeLoader):
    """YAML as the YAML language server reads it: the 1.2 core schema (no `yes`, no dates)."""


EditorLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    ("float", r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)", "-+0123456789."),
]:
    EditorLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), list(_first))


def editor_data(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=EditorLoader)  # noqa: S506 - a safe loader


def validator(kind_name: str) -> jsonschema.Draft7Validator:
    kind = next(k for k in schema.KINDS if k.name == kind_name)
    return jsonschema.Draft7Validator(json.loads((ROOT / schema.FOLDER / kind.file_name).read_text(encoding="utf-8")))


def all_messages(errors: Iterator[jsonschema.ValidationError] | list[jsonschema.ValidationError]) -> list[str]:
    """Every message, including those of the alternatives of a `oneOf`."""
    found = []
    for error in errors:
        found.append(error.message)
        found += all_messages(error.context or [])
    return found


# --- the shipped files --------------------------------------------------------------------------


def test_the_project_ships_files_of_every_kind() -> None:
    kinds = {kind.name for _, kind in SHIPPED}
    assert kinds == {"bot", "flow", "catalog", "test"}
    assert len(SHIPPED) >= 40


@pytest.mark.parametrize(("path", "kind"), SHIPPED, ids=[str(p.relative_to(ROOT)) for p, _ in SHIPPED])
def test_every_shipped_file_validates_against_its_schema(path: Path, kind: schema.Kind) -> None:
    errors = sorted(validator(kind.name).iter_errors(editor_data(path)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(("path", "kind"), SHIPPED, ids=[str(p.relative_to(ROOT)) for p, _ in SHIPPED])
def test_every_shipped_file_names_its_schema_on_its_first_line(path: Path, kind: schema.Kind) -> None:
    first = path.read_text(encoding="utf-8").partition("\n")[0]
    wanted = schema.modeline(path, kind, ROOT)
    assert first == wanted, f"{path.relative_to(ROOT)}: make its first line\n{wanted}"
    assert (path.parent / first.removeprefix(schema.MODELINE)).resolve().is_file()


def test_canned_replies_are_not_a_catalog(tmp_path: Path) -> None:
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "canned.yaml").write_text("- hello\n", encoding="utf-8")
    (tmp_path / "knowledge" / "programmes.yaml").write_text("catalog: programmes\n", encoding="utf-8")
    assert [(p.name, k.name) for p, k in schema.organisers_files(tmp_path)] == [("programmes.yaml", "catalog")]


def test_the_loader_reads_a_file_with_a_schema_line_and_counts_its_lines(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "flows/demo/main.yaml": """\
                # yaml-language-server: $schema=../../schemas/flow.schema.json
                start: hello
                nodes:
                  hello:
                    type: message
                    text: "Hello"
                    nxt: bye
                """,
        },
    )
    _, diagnostics = load_project(tmp_path, display_base=tmp_path)
    assert [d.render() for d in diagnostics.errors] == [
        "flows/demo/main.yaml:7:5: error: node 'hello': unknown key 'nxt' (did you mean 'next'?)"
    ]


# --- the schemas themselves ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", schema.KINDS, ids=[k.name for k in schema.KINDS])
def test_each_schema_is_a_valid_draft7_schema(kind: schema.Kind) -> None:
    document = schema.generate(kind)
    jsonschema.Draft7Validator.check_schema(document)
    assert document["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$defs" not in json.dumps(document)


@pytest.mark.usefixtures("_restore_logging")
def test_bots_schema_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--project", str(ROOT), "schema", "--check"]) == 0, capsys.readouterr().err
    assert "up to date" in capsys.readouterr().err


@pytest.mark.usefixtures("_restore_logging")
def test_bots_schema_writes_then_check_finds_a_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli.main(["schema", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "bot.schema.json",
        "catalog.schema.json",
        "flow.schema.json",
        "test.schema.json",
    ]
    for kind in schema.KINDS:
        assert (out / kind.file_name).read_text(encoding="utf-8") == (ROOT / "schemas" / kind.file_name).read_text(
            encoding="utf-8"
        )
    assert cli.main(["schema", "-o", str(out), "--check"]) == 0
    (out / "flow.schema.json").write_text("{}\n", encoding="utf-8")
    (out / "test.schema.json").unlink()
    capsys.readouterr()
    assert cli.main(["schema", "-o", str(out), "--check"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0].endswith("flow.schema.json is out of date: run 'bots schema' and commit the result")
    assert err[1].endswith("test.schema.json is missing: run 'bots schema' and commit the result")
    assert cli.main(["schema", "-o", str(out)]) == 0
    assert capsys.readouterr().err.count("wrote ") == 2
    assert cli.main(["schema", "-o", str(out), "--check"]) == 0


def test_descriptions_come_from_the_models_docs() -> None:
    flow = schema.generate(schema.KINDS[1])
    choice = flow["definitions"]["ChoiceNode"]
    assert choice["title"] == "choice node"
    assert choice["description"].startswith("Asks `text` with a button per option")
    assert choice["properties"]["multiple"]["description"].startswith("With `multiple: true` the person ticks")
    assert "title" not in choice["properties"]["text"]
    bot = schema.generate(schema.KINDS[0])
    assert bot["properties"]["help"]["description"] == "what /help says before the current question is asked again"


def test_every_node_type_is_in_the_flow_schema() -> None:
    from bots.engine.nodes import NODE_TYPES

    flow = schema.generate(schema.KINDS[1])
    alternatives = flow["properties"]["nodes"]["additionalProperties"]["oneOf"]
    types = {flow["definitions"][a["$ref"].rpartition("/")[2]]["properties"]["type"]["const"] for a in alternatives}
    assert types == set(NODE_TYPES)


# --- mistakes that the schema catches as the organiser types ---------------------------------------


@pytest.mark.parametrize(
    ("case", "file", "where", "message"),
    [
        ("unknown_key_in_node", "flows/demo/main.yaml", ["nodes", "thanks"], "('nxt' was unexpected)"),
        ("unknown_key_in_option", "flows/demo/main.yaml", ["nodes", "welcome"], "was unexpected"),
        ("unknown_key_in_flow", "flows/demo/main.yaml", [], "('node' was unexpected)"),
        ("unknown_key_in_bot", "flows/demo/bot.yaml", [], "('retension_days' was unexpected)"),
        ("missing_required_text", "flows/demo/main.yaml", ["nodes", "thanks"], "'text' is a required property"),
        ("missing_type", "flows/demo/main.yaml", ["nodes", "thanks"], "'type' is a required property"),
        ("unknown_node_type", "flows/demo/main.yaml", ["nodes", "welcome"], "'choice' was expected"),
        ("node_id_capitals", "flows/demo/main.yaml", ["nodes"], "'Thanks' does not match"),
        ("wrong_type_options_not_list", "flows/demo/main.yaml", ["nodes", "welcome"], "is not of type 'array'"),
        ("kind_not_a_kind", "flows/demo/main.yaml", ["nodes", "thanks"], "'words' is not one of"),
    ],
)
def test_a_broken_file_fails_validation(case: str, file: str, where: list[str], message: str) -> None:
    path = BROKEN / case / file
    kind = schema.kind_of(path, BROKEN / case)
    assert kind is not None
    errors = list(validator(kind.name).iter_errors(editor_data(path)))
    assert {tuple(e.absolute_path) for e in errors} == {tuple(where)}
    assert any(message in m for m in all_messages(errors)), all_messages(errors)


CHOICE = {"type": "choice", "text": "Which?", "options": [{"label": "A"}]}
AGREEMENT = {
    "a number where text is expected": ({"type": "end", "text": "Bye", "outcome": 2024}, True),
    "an option label that is a number": ({**CHOICE, "options": [{"label": 1}]}, False),
    "an unknown key": ({**CHOICE, "colour": "red"}, False),
    "a wrong kind of value": ({**CHOICE, "multiple": "maybe"}, False),
    "a node id with capitals": ({**CHOICE, "id": "Ask"}, False),
}


@pytest.mark.parametrize("name", AGREEMENT)
def test_the_schema_and_the_loader_agree(name: str, tmp_path: Path) -> None:
    node, valid = AGREEMENT[name]
    node_id = str(node.pop("id", "ask")) if "id" in node else "ask"
    text = yaml.safe_dump({"start": node_id, "nodes": {node_id: node}}, sort_keys=False)
    write_project(tmp_path, {"flows/demo/main.yaml": text})
    _, diagnostics = load_project(tmp_path, display_base=tmp_path)
    assert (not diagnostics.errors) is valid, [d.render() for d in diagnostics.errors]
    assert validator("flow").is_valid(yaml.load(text, Loader=EditorLoader)) is valid  # noqa: S506


def test_a_schema_line_is_relative_to_the_file(tmp_path: Path) -> None:
    flow = tmp_path / "flows" / "demo" / "tests" / "main.yaml"
    kind = schema.kind_of(flow, tmp_path)
    assert kind is not None and kind.name == "test"
    assert schema.modeline(flow, kind, tmp_path) == "# yaml-language-server: $schema=../../../schemas/test.schema.json"
    catalog = tmp_path / "knowledge" / "programmes.yaml"
    kind = schema.kind_of(catalog, tmp_path)
    assert kind is not None and kind.name == "catalog"
    assert schema.modeline(catalog, kind, tmp_path) == "# yaml-language-server: $schema=../schemas/catalog.schema.json"
    assert schema.kind_of(tmp_path / "flows" / "demo" / "notes.txt", tmp_path) is None
    assert schema.kind_of(tmp_path / "knowledge" / "documents" / "a.yaml", tmp_path) is None
