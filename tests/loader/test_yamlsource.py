"""Reading YAML with the position of every key and value, duplicate keys and syntax errors."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from bots.loader import Position
from bots.loader.yamlsource import YamlError, parse_yaml, read_yaml

FLOW = textwrap.dedent(
    """\
    # a comment first, so that line numbers are not all off by one by accident
    start: welcome
    nodes:
      welcome:
        type: choice
        text: "Hello!"
        options:
          - {label: "Help", next: thanks}
          - label: Nothing
            next: bye
      thanks:
        type: end
        text: >-
          Thank you.
    """
)


def at(line: int, column: int) -> Position:
    return Position("main.yaml", line, column)


def test_data_is_plain_python() -> None:
    document, duplicates = parse_yaml(FLOW, "main.yaml")
    assert duplicates == []
    assert document.text == FLOW
    assert document.data["nodes"]["welcome"]["options"][1] == {"label": "Nothing", "next": "bye"}
    assert document.data["nodes"]["thanks"]["text"] == "Thank you."


def test_positions_of_keys_and_values() -> None:
    source = parse_yaml(FLOW, "main.yaml")[0].source
    assert source.file == "main.yaml"
    assert source.keys[("start",)] == at(2, 1)
    assert source.values[("start",)] == at(2, 8)
    assert source.keys[("nodes", "welcome")] == at(4, 3)
    assert source.values[("nodes", "welcome")] == at(5, 5)  # a mapping starts at its first key
    assert source.keys[("nodes", "welcome", "text")] == at(6, 5)
    assert source.values[("nodes", "welcome", "text")] == at(6, 11)  # the opening quote


def test_positions_inside_lists_and_flow_mappings() -> None:
    source = parse_yaml(FLOW, "main.yaml")[0].source
    assert source.values[("nodes", "welcome", "options")] == at(8, 7)  # the first '-'
    assert source.values[("nodes", "welcome", "options", 0)] == at(8, 9)  # the '{'
    assert source.keys[("nodes", "welcome", "options", 0, "label")] == at(8, 10)
    assert source.keys[("nodes", "welcome", "options", 0, "next")] == at(8, 25)
    assert source.values[("nodes", "welcome", "options", 0, "next")] == at(8, 31)
    assert source.values[("nodes", "welcome", "options", 1)] == at(9, 9)
    assert source.keys[("nodes", "welcome", "options", 1, "next")] == at(10, 9)
    assert source.values[("nodes", "welcome", "options", 1, "next")] == at(10, 15)


def test_position_of_a_folded_text_is_its_indicator() -> None:
    source = parse_yaml(FLOW, "main.yaml")[0].source
    assert source.values[("nodes", "thanks", "text")] == at(13, 11)


def test_at_prefers_the_value_and_can_give_the_key() -> None:
    source = parse_yaml(FLOW, "main.yaml")[0].source
    assert source.at(("nodes", "welcome", "text")) == at(6, 11)
    assert source.at(("nodes", "welcome", "text"), key=True) == at(6, 5)


def test_at_falls_back_to_the_nearest_ancestor() -> None:
    """A key that is absent (e.g. a missing `next`) is reported where its parent is."""
    source = parse_yaml(FLOW, "main.yaml")[0].source
    assert source.at(("nodes", "thanks", "next")) == source.values[("nodes", "thanks")]
    assert source.at(("nodes", "nowhere", "next")) == source.values[("nodes",)]
    assert source.at(("nodes", "welcome", "options", 7, "label")) == source.values[("nodes", "welcome", "options")]
    assert source.at(("nothing", "here")) == at(2, 1)  # the document itself


def test_duplicate_keys_are_reported_at_the_second_and_the_first_is_kept() -> None:
    text = textwrap.dedent(
        """\
        start: a
        nodes:
          a:
            type: message
            text: first
            text: second
        """
    )
    document, duplicates = parse_yaml(text, "main.yaml")
    assert document.data["nodes"]["a"]["text"] == "first"
    assert [(d.position, d.severity) for d in duplicates] == [(at(6, 5), "error")]
    assert "duplicate key 'text'" in duplicates[0].message
    assert "line 5" in duplicates[0].message
    assert duplicates[0].path == ("nodes", "a", "text")


def test_duplicate_keys_at_several_levels_are_all_reported() -> None:
    text = "a: 1\nb:\n  c: 1\n  c: 2\na: 2\n"
    document, duplicates = parse_yaml(text, "main.yaml")
    assert document.data == {"a": 1, "b": {"c": 1}}
    assert sorted(d.position for d in duplicates) == [at(4, 3), at(5, 1)]


def test_yes_and_null_as_keys_keep_their_text() -> None:
    document, _ = parse_yaml("yes: 1\nno: 2\nnull: 3\n", "main.yaml")
    assert document.data == {"yes": 1, "no": 2, "null": 3}


def test_values_are_typed_as_yaml_types_them() -> None:
    document, _ = parse_yaml("a: yes\nb: 12\nc: 2027-12-31\nd: '12'\ne:\n", "main.yaml")
    assert document.data == {"a": True, "b": 12, "c": dt.date(2027, 12, 31), "d": "12", "e": None}


def test_an_empty_file_is_none_at_the_first_line() -> None:
    document, duplicates = parse_yaml("# only a comment\n", "main.yaml")
    assert (document.data, duplicates) == (None, [])
    assert document.source.at(("start",)) == at(1, 1)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        pytest.param("start: a\nnodes:\n  a:\n    type: end\n     text: bye\n", 5, 6, id="bad-indentation"),
        pytest.param("start: a\nnodes:\n  a:\n\ttype: end\n", 4, 1, id="tab"),
        pytest.param("start: a\nnodes: [a, b\n", 3, 1, id="unclosed-bracket"),
        pytest.param("a: 1\n---\nb: 2\n", 2, 1, id="two-documents"),
        pytest.param("a: *nothing\n", 1, 4, id="undefined-alias"),
    ],
)
def test_syntax_error_position(text: str, line: int, column: int) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml(text, "main.yaml")
    diagnostic = caught.value.diagnostic
    assert (diagnostic.position, diagnostic.severity) == (at(line, column), "error")
    assert diagnostic.message.startswith("YAML syntax: ")
    assert str(caught.value) == diagnostic.render()


def test_a_python_tag_on_a_value_is_an_error_not_code() -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml("a: !!python/name:os.system\n", "main.yaml")
    assert caught.value.diagnostic.position == at(1, 4)


def test_a_python_tag_on_a_list_builds_plain_data() -> None:
    document, _ = parse_yaml("a: !!python/object/apply:os.system ['true']\n", "main.yaml")
    assert document.data == {"a": ["true"]}


def test_read_yaml_names_the_file_as_displayed(tmp_path: Path) -> None:
    path = tmp_path / "main.yaml"
    path.write_text("start: a\n", encoding="utf-8")
    document, _ = read_yaml(path, "flows/demo/main.yaml")
    assert document.source.at(("start",)) == Position("flows/demo/main.yaml", 1, 8)


def test_read_yaml_rejects_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "main.yaml"
    path.write_bytes("text: Прывітанне\n".encode("cp1251"))
    with pytest.raises(YamlError) as caught:
        read_yaml(path, "flows/demo/main.yaml")
    diagnostic = caught.value.diagnostic
    assert diagnostic.position == Position("flows/demo/main.yaml", 1, 1)
    assert "UTF-8" in diagnostic.message
