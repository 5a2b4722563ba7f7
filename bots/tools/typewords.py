"""A pydantic field's type in words, for organisers: `whole number, from 1 to 20`.

Used by the organisers' reference (`bots.tools.guide`): types, their limits (length, range,
pattern), values as YAML writes them, and the models a field holds.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bots.engine.hours import TIME_PATTERN
from bots.engine.model import ID_PATTERN, LOCALE_PATTERN
from bots.engine.nodes.base import Node

_PLAIN = {str: "text", int: "whole number", float: "number", bool: "`true` or `false`", dt.date: "date (`YYYY-MM-DD`)"}

#: patterns of the models said in words (in place of "text"); any other is shown as it is
_PATTERN_WORDS = {
    ID_PATTERN: "an id of lowercase letters a-z, digits and _",
    LOCALE_PATTERN: "a language code such as `be`, `ru` or `en`",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "a name of letters, digits and _",
    r"^[a-z0-9_-]+$": "a name of lowercase letters a-z, digits, _ and -",
    TIME_PATTERN: "a time such as `09:30` (`24:00` for midnight)",
}

_LIMITS = ("min_length", "max_length", "ge", "le", "gt", "lt", "pattern")
_UNITS = {"text": ("character", "characters"), "list": ("item", "items"), "mapping": ("entry", "entries")}


def _limits_each(metadata: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """The limits each metadata item sets (a `FieldInfo` stands for its own metadata)."""
    for item in metadata:
        values: dict[str, Any] = {}
        for inner in item.metadata if isinstance(item, FieldInfo) else [item]:
            values.update({name: getattr(inner, name) for name in _LIMITS if getattr(inner, name, None) is not None})
        yield values


def _constraints(metadata: Sequence[Any], kind: str) -> list[str]:
    """A field's limits in words: `1 to 64 characters`, `from 1 to 20`."""
    found: dict[str, Any] = {}
    for values in _limits_each(metadata):
        found.update(values)
    words: list[str] = []
    unit = _UNITS.get(kind)
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
        return words
    if low is not None:
        words.append(f"at least {low}" if "ge" in found else f"more than {low}")
    if high is not None:
        words.append(f"at most {high}" if "le" in found else f"less than {high}")
    return words


def _pattern(metadata: Sequence[Any]) -> str | None:
    """The first pattern the metadata sets."""
    return next((str(values["pattern"]) for values in _limits_each(metadata) if values.get("pattern")), None)


def is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def is_node(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Node)


def alternatives(annotation: Any) -> list[Any]:
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
    options = alternatives(annotation)
    if any(is_node(o) for o in options) or any(is_node(a) for o in options for a in typing.get_args(o)):
        return "a node (see [Node types](#node-types))"
    if len(options) > 1:
        if int in options and float in options:
            options.remove(int)  # "number" says both
        words: list[str] = []
        for option in options:
            words += ["`true`", "`false`"] if option is bool else [describe_type(option, text=text)]
        return ", ".join([_joined(words), *_constraints(metadata, "")])
    return _describe_one(options[0], metadata, text)


def _describe_one(annotation: Any, metadata: Sequence[Any], text: str) -> str:
    """`describe_type` of a type that is not a union."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        values = [f"`{yaml_value(a)}`" for a in args]
        return values[0] if len(values) == 1 else "one of " + ", ".join(values)
    if origin in (list, tuple, set, frozenset):
        item = args[0] if args else Any
        inner = "each with the keys below" if is_model(item) else describe_type(item, text=text)
        return ", ".join([f"list ({inner})", *_constraints(metadata, "list")])
    if origin is dict:
        key, value = args if len(args) == 2 else (str, Any)
        key_words = describe_type(key, text="name")
        return ", ".join([f"mapping: {key_words} → {describe_type(value, text=text)}", *_constraints(metadata, "mapping")])
    if is_model(annotation):
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


def yaml_value(value: Any) -> str:
    """A value as YAML writes it in flow style: `true`, `2027-12-31`, `[a, b]`, `""`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return yaml_value(value.value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) and value == "":
        return '""'
    return str(value)


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """Models (not nodes) a field holds, directly or in a list or mapping."""
    if is_model(annotation) and not is_node(annotation):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += [model for model in nested_models(arg) if model not in found]
    return found
