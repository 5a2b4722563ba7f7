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
import ast
import datetime as dt
import enum
import functools
import inspect
import re
import sys
import textwrap
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

import bots.engine.nodes as nodes_package
from bots.engine.model import (
    ID_PATTERN,
    LOCALE_PATTERN,
    BotConfig,
    Catalog,
    ConversationTest,
    Flow,
)
from bots.engine.nodes import NODE_TYPES
from bots.engine.nodes.base import Node

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

_FENCE = re.compile(r"^```ya?ml[ \t]*\n(.*?)^```[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")
_TABLE_ROW_TYPE = re.compile(r"^\|\s*([a-z_]+)\s*\|", re.MULTILINE)


# --- docstrings ------------------------------------------------------------------------------


def docstring(obj: object) -> str:
    """An object's own docstring, dedented ('' if it has none; never the base class's)."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def yaml_examples(obj: object) -> list[str]:
    """The fenced YAML blocks of a docstring, dedented, each ending in a newline."""
    return [textwrap.dedent(block) for block in _FENCE.findall(docstring(obj))]


def prose(obj: object) -> str:
    """A docstring without its YAML examples."""
    return re.sub(r"\n{3,}", "\n\n", _FENCE.sub("", docstring(obj))).strip()


def _sentences(text: str) -> Iterator[str]:
    for paragraph in re.split(r"\n\s*\n", text):
        joined = " ".join(paragraph.split())
        if joined:
            yield from _SENTENCE_END.split(joined)


def mentioning(key: str, texts: Sequence[str], keys: Sequence[str] = ()) -> str:
    """The docstring sentence that best describes `key` (named in backticks, as `key` or
    `key: ...`), looking in `texts` in order: the first that starts with the key, else the
    first that names the fewest of `keys` (the model's keys), if it names at most three."""
    found = [s for text in texts for s in _sentences(text) if _names(s, key)]
    for sentence in found:
        if re.match(r"`" + re.escape(key) + r"(`|:)", sentence):
            return sentence
    scored = [(sum(_names(s, k) for k in keys) or 1, index, s) for index, s in enumerate(found)]
    best = min(scored, default=None)
    return best[2] if best and best[0] <= 3 else ""


def _names(sentence: str, key: str) -> bool:
    return re.search(r"`" + re.escape(key) + r"(`|:)", sentence) is not None


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """What the source says of each field of `model` and its bases: the `#:` comment lines
    above the field, and a docstring right below it (as `bots schema` reads them too)."""
    comments: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)) or klass.__module__.startswith("pydantic"):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):  # no source: made in the interpreter, or frozen
            continue
        tree = ast.parse(source)
        if not tree.body or not isinstance(tree.body[0], ast.ClassDef):
            continue
        lines = source.splitlines()
        body = tree.body[0].body
        for index, statement in enumerate(body):
            if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                continue
            said: list[str] = []
            row = statement.lineno - 2
            while row >= 0 and lines[row].strip().startswith("#:"):
                said.insert(0, lines[row].strip()[2:].strip())
                row -= 1
            following = body[index + 1] if index + 1 < len(body) else None
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                if isinstance(following.value.value, str):
                    said.append(inspect.cleandoc(following.value.value))
            if said:
                comments[statement.target.id] = re.sub(r"^extension:\s*", "", " ".join(said))
    return comments


# --- types -------------------------------------------------------------------------------------

_PLAIN = {str: "text", int: "whole number", float: "number", bool: "`true` or `false`", dt.date: "date (`YYYY-MM-DD`)"}

#: patterns of the models said in words (in place of "text"); any other is shown as it is
_PATTERN_WORDS = {
    ID_PATTERN: "an id of lowercase letters a-z, digits and _",
    LOCALE_PATTERN: "a language code such as `be`, `ru` or `en`",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "a name of letters, digits and _",
    r"^[a-z0-9_-]+$": "a name of lowercase letters a-z, digits, _ and -",
    r"^([01]?[0-9]|2[0-4]):[0-5][0-9]$": "a time such as `09:30`",
}


def _constraints(metadata: Sequence[Any], kind: str) -> list[str]:
    """A field's limits in words: `1 to 64 characters`, `from 1 to 20`."""
    found: dict[str, Any] = {}
    for item in metadata:
        found.update(_constraint_values(item.metadata if isinstance(item, FieldInfo) else [item]))
    words: list[str] = []
    unit = {"text": ("character", "characters"), "list": ("item", "items"), "mapping": ("entry", "entries")}.get(kind)
    low, high = found.get("min_length"), found.get("max_length")
    if unit and low is not None and high is not None:
        words.append(f"{low} to {high} {unit[1]}")
    elif unit and low is not None:
        words.append(f"at least {low} {unit[0] if low == 1 else unit[1]}")
    elif unit and high is not None:
        words.append(f"at most {high} {unit[1]}")
    low = found.get("ge", found.get("gt"))
    high = found.get("le", found.get("lt"))
    if "ge" in found and "le" in found:
        words.append(f"from {low} to {high}")
    else:
        if low is not None:
            words.append(f"at least {low}" if "ge" in found else f"more than {low}")
        if high is not None:
            words.append(f"at most {high}" if "le" in found else f"less than {high}")
    return words


def _pattern(metadata: Sequence[Any]) -> str | None:
    for item in metadata:
        pattern = _constraint_values(item.metadata if isinstance(item, FieldInfo) else [item]).get("pattern")
        if pattern:
            return str(pattern)
    return None


def _constraint_values(metadata: Sequence[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in metadata:
        for name in ("min_length", "max_length", "ge", "le", "gt", "lt", "pattern"):
            value = getattr(item, name, None)
            if value is not None:
                values[name] = value
    return values


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _is_node(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Node)


def _alternatives(annotation: Any) -> list[Any]:
    """The members of a union (`X | None` gives [X]), or [annotation]."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _joined(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def describe_type(annotation: Any, metadata: Sequence[Any] = (), *, text: str = "text") -> str:
    """A field's type in words, with its limits: `whole number, from 1 to 20`. `text` is the
    word for a text value (`node`, `expression`... where the key is known to hold one)."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return describe_type(inner, [*metadata, *extra], text=text)
    options = _alternatives(annotation)
    if any(_is_node(o) for o in options) or any(_is_node(a) for o in options for a in typing.get_args(o)):
        return "a node (see [Node types](#node-types))"
    if len(options) > 1:
        if int in options and float in options:
            options.remove(int)  # "number" says both
        words: list[str] = []
        for option in options:
            words += ["`true`", "`false`"] if option is bool else [describe_type(option, text=text)]
        return ", ".join([_joined(words), *_constraints(metadata, "")])
    annotation = options[0]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        values = [f"`{_yaml_value(a)}`" for a in args]
        return values[0] if len(values) == 1 else "one of " + ", ".join(values)
    if origin in (list, tuple, set, frozenset):
        item = args[0] if args else Any
        inner = "each with the keys below" if _is_model(item) else describe_type(item, text=text)
        return ", ".join([f"list ({inner})", *_constraints(metadata, "list")])
    if origin is dict:
        key, value = args if len(args) == 2 else (str, Any)
        key_words = describe_type(key, text="name")
        return ", ".join([f"mapping: {key_words} → {describe_type(value, text=text)}", *_constraints(metadata, "mapping")])
    if _is_model(annotation):
        return "mapping with the keys below"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
    if annotation is str:
        pattern = _pattern(metadata)
        if pattern:
            text = _PATTERN_WORDS.get(pattern, f"text matching `{pattern}`")
        return ", ".join([text, *_constraints(metadata, "text")])
    plain = _PLAIN.get(annotation, getattr(annotation, "__name__", str(annotation)))
    return ", ".join([plain, *_constraints(metadata, "")])


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _yaml_value(value.value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) and value == "":
        return '""'
    return str(value)


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    """Models (not nodes) a field holds, directly or in a list or mapping."""
    found: list[type[BaseModel]] = []
    if _is_model(annotation) and not _is_node(annotation):
        return [annotation]
    for arg in typing.get_args(annotation):
        for model in _nested_models(arg):
            if model not in found:
                found.append(model)
    return found


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
        if key == "type" and typing.get_origin(annotation) is typing.Literal and _is_node(model):
            description = "always `" + str(typing.get_args(annotation)[0]) + "`: says which node type this is"
        else:
            description = info.description or comments.get(name, "") or mentioning(key, texts, names)
        if info.is_required():
            default = ""
        else:
            value = info.get_default(call_default_factory=True)
            default = "" if value is None else f"`{_yaml_value(value)}`"
        role = roles.get((model, key)) or (_role_by_name().get(key) if model in _node_models() else None)
        kind = describe_type(annotation, info.metadata, text=role or "text")
        nested = tuple(_nested_models(annotation))
        many = typing.get_origin(_alternatives(annotation)[0]) in (list, dict, tuple, set)
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
        for example in yaml_examples(cls):
            node = _example_node(cls, example)
            if node is None:
                continue
            for method, word in _ROLE_WORDS.items():
                for path, _ in getattr(node, method)():
                    holder = _holder(cls, path)
                    if holder is not None:
                        roles.setdefault(holder, word)
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
            todo += _nested_models(info.annotation)
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
        nested = _nested_models(info.annotation)
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
    for example in yaml_examples(cls):
        node = _example_node(cls, example)
        if node is None:
            continue
        for path, _ in node.texts():
            shown = "".join("[]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))
            if shown not in keys:
                keys.append(shown)
    return keys


def _example_node(cls: type[Node], example: str) -> Node | None:
    try:
        data = yaml.safe_load(example)
        (raw,) = data.values()
        return cls.model_validate(raw)
    except Exception:  # a broken example is the test's business; the reference still lists keys
        return None


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
            if nested in seen:
                continue
            seen.add(nested)
            heading = f"Each item of `{key.name}`" if key.many else f"`{key.name}`"
            lines += ["", "#" * level + " " + heading, ""]
            text = prose(nested)
            if text:
                lines += [text, ""]
            # the model's own examples, else those of its module that show this very key
            examples = yaml_examples(nested) or [
                e for e in yaml_examples(inspect.getmodule(nested)) if e.startswith(f"{key.name}:")
            ]
            for example in examples:
                lines += ["```yaml", example.rstrip("\n"), "```", ""]
            lines += _model_section(nested, min(level + 1, 6), [prose(model), *context], seen)
    return lines


def _node_section(name: str, cls: type[Node]) -> list[str]:
    lines = [f"### `{name}`", ""]
    text = prose(cls)
    if text:
        lines += [text, ""]
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
    for example in yaml_examples(cls):
        lines += ["```yaml", example.rstrip("\n"), "```", ""]
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
        first = next(_sentences(prose(cls)), "")
        lines.append(f"| [`{name}`](#{name}) | {_cell(first)} |")
    for name, cls in types_:
        lines += [""] + _node_section(name, cls)
    for heading, model in FILE_MODELS:
        lines += ["", f"## {heading}", ""]
        text = prose(model)
        if text and text.rstrip(".") not in heading:
            lines += [text, ""]
        for example in yaml_examples(model):
            lines += ["```yaml", example.rstrip("\n"), "```", ""]
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
