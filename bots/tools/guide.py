"""`python -m bots.tools.guide`: write the organisers' reference, `docs/guide/reference.md`.

The reference is generated, so it cannot drift from the code: every registered node type
(`bots.engine.nodes.NODE_TYPES`) with its docstring and the YAML example in it, and the keys
of its pydantic fields (name, type, required or not, default); then the keys of `bot.yaml`,
flow files, catalogs and conversation tests from `bots.engine.model`.

A key's description is, in this order: the field's `Field(description=...)`, the `#:`
comment above the field, or the docstring sentence that names the key in backticks; else
it is left empty. `--check` writes nothing and exits 1 if the file is not what it would be.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import re
import sys
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel

import bots.engine.nodes as nodes_package
from bots.engine.model import BotConfig, Catalog, ConversationTest, Flow
from bots.engine.nodes import NODE_TYPES
from bots.engine.nodes.base import Node
from bots.tools.fielddocs import (
    field_comments,
    mentioning,
    prose,
    sentences,
    yaml_examples,
)
from bots.tools.typewords import (
    alternatives,
    describe_type,
    is_node,
    nested_models,
    yaml_value,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "guide" / "reference.md"
COMMAND = "python -m bots.tools.guide"

#: the organisers' files, in the order the reference shows them: (heading, model)
FILE_MODELS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("A bot: `flows/<bot>/bot.yaml`", BotConfig),
    ("A flow: `flows/<bot>/<flow>.yaml`", Flow),
    ("A catalog: `knowledge/<catalog>.yaml`", Catalog),
    ("A conversation test: `flows/<bot>/tests/*.yaml`", ConversationTest),
)

_TABLE_ROW_TYPE = re.compile(r"^\|\s*([a-z_]+)\s*\|", re.MULTILINE)


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One YAML key of a model, as the reference shows it."""

    name: str
    kind: str
    required: bool
    default: str
    description: str
    nested: tuple[type[BaseModel], ...] = ()
    many: bool = False  # the nested models come in a list or mapping


def keys_of(model: type[BaseModel], context: Sequence[str] = ()) -> list[Key]:
    """Every key of `model`, described from its field, comment, or the docstrings in `context`."""
    comments = field_comments(model)
    texts = [prose(model), *context]
    names = [info.alias or name for name, info in model.model_fields.items()]
    roles = key_roles()
    keys = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        annotation = info.annotation
        if key == "type" and typing.get_origin(annotation) is typing.Literal and is_node(model):
            description = "always `" + str(typing.get_args(annotation)[0]) + "`: says which node type this is"
        else:
            description = info.description or comments.get(name, "") or mentioning(key, texts, names)
        if info.is_required():
            default = ""
        else:
            value = info.get_default(call_default_factory=True)
            default = "" if value is None else f"`{yaml_value(value)}`"
        role = roles.get((model, key)) or (_role_by_name().get(key) if model in _node_models() else None)
        kind = describe_type(annotation, info.metadata, text=role or "text")
        nested = tuple(nested_models(annotation))
        many = typing.get_origin(alternatives(annotation)[0]) in (list, dict, tuple, set)
        keys.append(Key(key, kind, info.is_required(), default, description, nested, many))
    return keys


#: what a node's reference-like keys hold, found by the node's own methods
_ROLE_WORDS = {"targets": "node", "flow_refs": "flow", "expressions": "expression"}


@functools.cache
def key_roles() -> dict[tuple[type[BaseModel], str], str]:
    """(model, key) -> `node`, `flow` or `expression`, for the keys that hold one in the
    node types' examples, as the nodes' `targets()`, `flow_refs()` and `expressions()` say."""
    roles: dict[tuple[type[BaseModel], str], str] = {}
    for cls in NODE_TYPES.values():
        for node in _example_nodes(cls):
            for method, word in _ROLE_WORDS.items():
                holders = (_holder(cls, path) for path, _ in getattr(node, method)())
                roles.update({holder: word for holder in holders if holder is not None and holder not in roles})
    return roles


@functools.cache
def _role_by_name() -> dict[str, str]:
    """Key name -> role, for names that have one role wherever examples use them."""
    seen: dict[str, set[str]] = {}
    for (_, key), role in key_roles().items():
        seen.setdefault(key, set()).add(role)
    return {key: next(iter(roles)) for key, roles in seen.items() if len(roles) == 1}


@functools.cache
def _node_models() -> frozenset[type[BaseModel]]:
    """The node types and the models nested in them (options, cases...)."""
    found: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = list(NODE_TYPES.values())
    while todo:
        model = todo.pop()
        if model in found:
            continue
        found.add(model)
        for info in model.model_fields.values():
            todo += nested_models(info.annotation)
    return frozenset(found)


def _holder(model: type[BaseModel], path: Sequence[str | int]) -> tuple[type[BaseModel], str] | None:
    """The model and key whose value `path` points into (`('cases', 0, 'when')` -> Case, `when`)."""
    current: type[BaseModel] | None = model
    holder = None
    for part in path:
        if isinstance(part, int) or current is None:
            continue
        info = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if info is None:
            current = None
            continue
        holder = (current, part)
        nested = nested_models(info.annotation)
        current = nested[0] if nested else None
    return holder


# --- node types ------------------------------------------------------------------------------


def node_types() -> list[tuple[str, type[Node]]]:
    """Every registered node type: in the order of the table in `bots.engine.nodes`' docstring,
    then any other registered type in the order it was registered."""
    listed = [name for name in _TABLE_ROW_TYPE.findall(nodes_package.__doc__ or "") if name in NODE_TYPES]
    rest = [name for name in NODE_TYPES if name not in listed]
    return [(name, NODE_TYPES[name]) for name in listed + rest]


def _translated_keys(cls: type[Node]) -> list[str]:
    """Keys holding translated texts: the class's TEXT_KEYS and what its examples show."""
    keys = list(cls.TEXT_KEYS)
    for node in _example_nodes(cls):
        for path, _ in node.texts():
            shown = "".join("[]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))
            if shown not in keys:
                keys.append(shown)
    return keys


def _example_nodes(cls: type[Node]) -> Iterator[Node]:
    """The nodes of `cls`'s docstring examples; a broken example is skipped (it is the tests'
    business: the reference still lists the keys)."""
    for example in yaml_examples(cls):
        try:
            (raw,) = yaml.safe_load(example).values()
            node = cls.model_validate(raw)
        except Exception:
            continue
        yield node


# --- rendering -----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(keys: Sequence[Key]) -> list[str]:
    lines = ["| key | value | required | default | what it is |", "|---|---|---|---|---|"]
    for key in keys:
        lines.append(
            f"| `{key.name}` | {_cell(key.kind)} | {'yes' if key.required else 'no'} | {_cell(key.default)} | {_cell(key.description)} |"
        )
    return lines


def _model_section(model: type[BaseModel], level: int, context: Sequence[str], seen: set[type[BaseModel]]) -> list[str]:
    """The table of `model`'s keys, then a sub-section for each model nested in it."""
    keys = keys_of(model, context)
    lines = _table(keys)
    extra = model.model_config.get("extra")
    if extra == "allow":
        lines += ["", "Any other key is allowed too."]
    elif extra == "forbid":
        lines += ["", "No other key is allowed: a misspelt key is an error."]
    for key in keys:
        for nested in key.nested:
            if nested not in seen:
                seen.add(nested)
                lines += _nested_section(key, nested, level, [prose(model), *context], seen)
    return lines


def _nested_section(
    key: Key, nested: type[BaseModel], level: int, context: Sequence[str], seen: set[type[BaseModel]]
) -> list[str]:
    """The sub-section of a model that `key` holds: its docstring, examples and keys."""
    heading = f"Each item of `{key.name}`" if key.many else f"`{key.name}`"
    lines = ["", "#" * level + " " + heading, "", *_paragraph(prose(nested))]
    # the model's own examples, else those of its module that show this very key
    examples = yaml_examples(nested) or [e for e in yaml_examples(inspect.getmodule(nested)) if e.startswith(f"{key.name}:")]
    return lines + _fenced(examples) + _model_section(nested, min(level + 1, 6), context, seen)


def _paragraph(text: str) -> list[str]:
    return [text, ""] if text else []


def _fenced(examples: Sequence[str]) -> list[str]:
    """YAML examples as fenced blocks, each followed by a blank line."""
    return [line for example in examples for line in ("```yaml", example.rstrip("\n"), "```", "")]


def _node_section(name: str, cls: type[Node]) -> list[str]:
    lines = [f"### `{name}`", "", *_paragraph(prose(cls))]
    waits = "yes: it is a question, and the flow stops here until the person answers" if cls.WAITS else "no: it goes on at once"
    lines.append(f"**Waits for the person:** {waits}.")
    translated = _translated_keys(cls)
    if translated:
        lines.append("")
        lines.append("**Translated:** " + ", ".join(f"`{k}`" for k in translated) + ".")
    templates = [k for k in cls.TEMPLATE_KEYS if k not in translated]
    if templates:
        lines.append("")
        lines.append("**Templates, not translated:** " + ", ".join(f"`{k}`" for k in templates) + ".")
    lines.append("")
    lines += _fenced(yaml_examples(cls))
    lines += _model_section(cls, 4, [], set())
    return lines


HEADER = f"""\
<!-- Generated by `{COMMAND}` from the node classes in bots/engine/nodes/ and the models in
bots/engine/model.py: do not edit by hand. Change a docstring or a field, then run it again. -->
# Reference

Every node type and every key of the files organisers write, generated from the code the
bots run, so it is always up to date. To learn how to put them together, start with
[Writing a flow](writing-a-flow.md); for texts and conditions see [Templates and
expressions](templates.md).

How to read the tables: **required** keys must be there; the others may be left out, and
then the **default** applies (an empty default means "not set"). Keys that name where to go
(`next`, `else`, `empty`, an option's `next`) take a node of the same flow (`menu`), a node of
another flow of the bot (`card:intro`), or of another bot's or shared folder's flow
(`shared/human:what`). Keys named `flow` take a flow of this bot (`human`) or of another
folder (`shared/human`).
"""


def render() -> str:
    """The whole reference, as Markdown."""
    for cached in (key_roles, _role_by_name, _node_models):  # the node types may have changed
        cached.cache_clear()
    types_ = node_types()
    lines = HEADER.splitlines()
    lines += ["", "## Contents", ""]
    lines += ["- [Node types](#node-types): " + ", ".join(f"[`{n}`](#{n})" for n, _ in types_)]
    for heading, _ in FILE_MODELS:
        lines.append(f"- [{heading}](#{_anchor(heading)})")
    lines += ["", "## Node types", ""]
    lines += ["| type | what it does |", "|---|---|"]
    for name, cls in types_:
        first = next(sentences(prose(cls)), "")
        lines.append(f"| [`{name}`](#{name}) | {_cell(first)} |")
    for name, cls in types_:
        lines += [""] + _node_section(name, cls)
    for heading, model in FILE_MODELS:
        lines += ["", f"## {heading}", ""]
        text = prose(model)
        if text and text.rstrip(".") not in heading:
            lines += [text, ""]
        lines += _fenced(yaml_examples(model))
        lines += _model_section(model, 3, [], set())
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(_squeeze(lines)) + "\n"


def _squeeze(lines: list[str]) -> list[str]:
    """No two blank lines in a row."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return out


def _anchor(heading: str) -> str:
    """The anchor GitHub and most Markdown viewers give a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.lower())
    return text.replace(" ", "-")


# --- command ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Write docs/guide/reference.md from the node types and models.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    parser.add_argument("-o", "--output", type=Path, default=REFERENCE, help=f"the file to write (default: {REFERENCE})")
    args = parser.parse_args(argv)
    wanted = render()
    path: Path = args.output
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != wanted:
            print(f"{path} is out of date: run '{COMMAND}' to regenerate it", file=sys.stderr)
            return 1
        print(f"{path} is up to date", file=sys.stderr)
        return 0
    if current != wanted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    else:
        print(f"{path} was already up to date", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
