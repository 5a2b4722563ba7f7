"""The organisers' guide: the generated reference is current, complete, and its examples work."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
import yaml

from bots.engine.nodes import NODE_TYPES
from bots.engine.nodes.base import Node
from bots.loader import check_path
from bots.loader.flowgraph import reads
from bots.tools import guide
from bots.tools.fielddocs import yaml_examples
from tests.support.project import write_project

EXAMPLES = [
    pytest.param(name, index, example, id=f"{name}-{index}")
    for name, cls in guide.node_types()
    for index, example in enumerate(yaml_examples(cls))
]


def section(text: str, heading: str) -> str:
    """The text from `heading` to the next heading of the same level."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    end = text.find("\n" + level + " ", start + len(heading))
    return text[start : end if end >= 0 else None]


# --- the reference is the generator's output, and covers everything -----------------------------


def test_reference_is_up_to_date() -> None:
    assert guide.REFERENCE.read_text(encoding="utf-8") == guide.render(), (
        "docs/guide/reference.md is stale: run 'python -m bots.tools.guide' and commit the result"
    )
    assert guide.main(["--check"]) == 0


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path: Path) -> None:
    stale = tmp_path / "reference.md"
    stale.write_text("# Reference\n\nold\n", encoding="utf-8")
    assert guide.main(["--check", "-o", str(stale)]) == 1
    assert stale.read_text(encoding="utf-8") == "# Reference\n\nold\n"  # --check writes nothing
    assert guide.main(["-o", str(stale)]) == 0
    assert guide.main(["--check", "-o", str(stale)]) == 0


def test_every_registered_node_type_and_each_of_its_keys_is_in_the_reference() -> None:
    reference = guide.REFERENCE.read_text(encoding="utf-8")
    assert [name for name, _ in guide.node_types()] != []
    assert {name for name, _ in guide.node_types()} == set(NODE_TYPES)
    for name, cls in NODE_TYPES.items():
        part = section(reference, f"### `{name}`")
        for field_name, info in cls.model_fields.items():
            assert f"| `{info.alias or field_name}` |" in part, f"{name}: key '{info.alias or field_name}' is not listed"


def test_every_node_type_has_a_yaml_example_in_its_docstring() -> None:
    missing = [name for name, cls in NODE_TYPES.items() if not yaml_examples(cls)]
    assert missing == [], f"node types without a ```yaml example in their docstring: {missing}"


def test_the_files_organisers_write_are_in_the_reference() -> None:
    reference = guide.REFERENCE.read_text(encoding="utf-8")
    for heading, model in guide.FILE_MODELS:
        part = section(reference, f"## {heading}")
        for field_name, info in model.model_fields.items():
            assert f"| `{info.alias or field_name}` |" in part
    assert "| `expect_not` |" in reference  # a key of a model nested in another (a test's steps)
    assert "| `valid_until` |" in reference  # a catalog item's key


def test_a_new_node_type_and_a_key_without_any_description_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    class PostcardNode(Node):
        """Sends a postcard to `address`.

        ```yaml
        card:
          type: postcard
          address: "Minsk"
        ```
        """

        type: Literal["postcard"]
        address: str
        colour: str | None = None
        copies: int = 1

        TEXT_KEYS: ClassVar[tuple[str, ...]] = ("address",)

    monkeypatch.setitem(NODE_TYPES, "postcard", PostcardNode)
    part = section(guide.render(), "### `postcard`")
    assert "Sends a postcard to `address`." in part
    assert "| `address` | text | yes |  | Sends a postcard to `address`. |" in part
    assert "| `colour` | text | no |  |  |" in part
    assert "| `copies` | whole number | no | `1` |  |" in part
    assert "type: postcard" in part


# --- the documented examples are valid -------------------------------------------------------------

BOT_YAML = """\
name: Guide
start: main
source_locale: en
locales: [en]
token_env: DEMO_TOKEN
moderators_chat_env: DEMO_MODERATORS_CHAT
"""
STUB_END: dict[str, Any] = {"type": "end", "text": "Stub."}
STUB_FLOW: dict[str, Any] = {"start": "stub", "nodes": {"stub": {"type": "message", "text": "Stub."}}}


def minimal_bot(root: Path, example: str) -> Path:
    """A project with one bot, `demo`, whose main flow holds the example node, plus whatever the node
    names (nodes, flows, a catalog, a document) and a `set` node giving every variable it reads."""
    (node_id, raw), *more = yaml.safe_load(example).items()
    assert not more, "an example is one node: `<id>:` and its keys"
    node = NODE_TYPES[raw["type"]].model_validate(raw)
    nodes: dict[str, Any] = {node_id: raw}
    other_flows: dict[str, dict[str, Any]] = {}
    for _, target in node.targets():
        flow, _, target_node = target.rpartition(":")
        if flow:
            other_flows.setdefault(flow, {"start": target_node, "nodes": {}})["nodes"][target_node] = STUB_END
        else:
            nodes.setdefault(target_node, STUB_END)
    for _, ref in node.flow_refs():
        other_flows.setdefault(ref, STUB_FLOW)
    start = node_id
    variables = sorted({name for _, name in reads(node)})
    if variables:
        nodes["guide_prelude"] = {"type": "set", "values": dict.fromkeys(variables, "none"), "next": node_id}
        start = "guide_prelude"
    files: dict[str, Any] = {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": {"start": start, "nodes": nodes}}
    for flow, data in other_flows.items():
        folder, _, name = flow.rpartition("/")
        files[f"flows/{folder or 'demo'}/{name}.yaml"] = data
    catalog = getattr(node, "catalog", None)
    if isinstance(catalog, str):
        files[f"knowledge/{catalog}.yaml"] = {"catalog": catalog, "items": [{"id": "stub", "title": "Stub"}]}
    document = getattr(node, "document", None)
    if isinstance(document, str):
        files[f"knowledge/{document}"] = "A document.\n"
    dumped = {name: c if isinstance(c, str) else yaml.safe_dump(c, allow_unicode=True) for name, c in files.items()}
    return write_project(root, dumped)


@pytest.mark.parametrize(("name", "index", "example"), EXAMPLES)
def test_each_docstring_example_passes_bots_check_in_a_minimal_bot(name: str, index: int, example: str, tmp_path: Path) -> None:
    data = yaml.safe_load(example)
    assert isinstance(data, dict) and len(data) == 1, f"{name} example {index}: not one node"
    (raw,) = data.values()
    assert raw.get("type") == name, f"{name} example {index}: its type is {raw.get('type')!r}"
    root = minimal_bot(tmp_path, example)
    problems = [d.render() for d in check_path(root, display_base=root)]
    assert problems == [], f"the {name} example:\n{textwrap.indent(example, '    ')}\nbots check says:\n" + "\n".join(problems)
