"""Turn pydantic's validation errors into messages an organiser can act on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bots.engine.hours import TIME_PATTERN
from bots.loader.diagnostics import Diagnostic, suggest
from bots.loader.yamlsource import PathKey, SourceMap
from bots.loader.yamlsource import show as show_path

M = TypeVar("M", bound=BaseModel)

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "date_type": "a date like 2027-12-31",
    "date_parsing": "a date like 2027-12-31",
    "date_from_datetime_parsing": "a date like 2027-12-31",
    "date_from_datetime_inexact": "a date like 2027-12-31",
}


def describe(value: Any) -> str:
    """How a YAML value reads to a person: `true`, `a number`, `'many'`, `a list`..."""
    if value is None:
        return "nothing"
    if isinstance(value, str) and 0 < len(value) <= 40 and "\n" not in value:
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (dt.date, dt.datetime)):
        return "a date"
    return type(value).__name__


_LIST_HINTS = {
    "options": 'write each option on its own line, like - {label: "Help"}',
    "cases": "write each case on its own line, like - {when: \"need == 'legal'\", next: lawyers}",
    "locales": "write them like [be, ru, en]",
    "items": "write each item on its own line, starting with '- id:'",
    "steps": "write each step on its own line, like - send: /start",
}


def _resolve(data: Any, loc: tuple[Any, ...]) -> tuple[PathKey, bool]:
    """Follow pydantic's `loc` through the data, skipping union and tag markers.

    Returns the data path and whether the last element named a key that is absent.
    """
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and last:
            path.append(part)
            return tuple(path), True
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        # anything else is a union member or discriminator tag: not part of the data
    return tuple(path), False


def validate(
    model: type[M],
    data: Any,
    source: SourceMap,
    base: PathKey = (),
    *,
    where: str = "",
    fields_of: Callable[[PathKey], list[str]] | None = None,
) -> tuple[M | None, list[Diagnostic]]:
    """Validate `data` (found at `base` in the file) against `model`.

    `where` prefixes every message (`node 'welcome': `); `fields_of(path)` lists the keys
    allowed at a path, for "did you mean" on unknown keys.
    """
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        errors = err.errors(include_url=False)
    diagnostics: list[Diagnostic] = []
    seen: set[PathKey] = set()
    misspelt: set[PathKey] = set()
    for error in errors:
        if error["type"] == "extra_forbidden" and fields_of is not None:
            path, _ = _resolve(data, tuple(error["loc"]))
            allowed = fields_of(path[:-1])
            hint = suggest(str(path[-1]), allowed) if path else ""
            if hint:
                misspelt.add(path[:-1] + (hint.split("'")[1],))
    for error in errors:
        path, absent = _resolve(data, tuple(error["loc"]))
        if path in seen or (error["type"] == "missing" and path in misspelt):
            continue  # one message per place: unions report once per member
        seen.add(path)
        full = base + path
        message = _message(error, path, absent, data, fields_of, source.raw.get(full))
        position = source.at(full, key=error["type"] == "extra_forbidden")
        if error["type"] == "missing":
            position = source.at(base + path[:-1], key=True)
        diagnostics.append(Diagnostic.error(position, where + message, full))
    return None, diagnostics


def _value_at(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def _message(
    error: Any,
    path: PathKey,
    absent: bool,
    data: Any,
    fields_of: Callable[[PathKey], list[str]] | None,
    raw: str | None,
) -> str:
    kind = error["type"]
    key = path[-1] if path else ""
    parent = show_path(path[:-1])
    prefix = f"{parent}: " if parent else ""
    if kind == "extra_forbidden":
        allowed = fields_of(path[:-1]) if fields_of else []
        return f"{prefix}unknown key '{key}'{suggest(str(key), allowed)}"
    if kind == "missing":
        return f"{prefix}missing key '{key}'"
    value = _value_at(data, path) if path and not absent else data
    name = show_path(path) or "the file"
    if kind == "string_type" and isinstance(value, bool) and raw:
        meaning = "true" if value else "false"
        return f"'{name}' must be text; {raw} without quotes means {meaning}: write \"{raw}\""
    if kind in _EXPECTED:
        got = describe(value)
        hint = ""
        if kind == "list_type":
            hint = ": " + _LIST_HINTS.get(str(key), "write each item on its own line, starting with '- '")
        return f"'{name}' must be {_EXPECTED[kind]}, not {got}{hint}"
    if kind == "literal_error":
        allowed = [s.strip().strip("'") for s in error["ctx"]["expected"].replace(" or ", ", ").split(",")]
        return f"'{name}' is '{value}'; it must be one of: {', '.join(allowed)}{suggest(str(value), allowed)}"
    if kind == "too_short":
        return f"'{name}' must not be empty"
    if kind == "string_too_short":
        return f"'{name}' must not be empty"
    if kind == "string_too_long":
        return f"'{name}' is too long (at most {error['ctx']['max_length']} characters)"
    if kind == "string_pattern_mismatch":
        return f"'{name}' is '{value}', which is not allowed here: {_pattern_hint(error['ctx']['pattern'])}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"'{name}' must be at least {error['ctx'].get('ge', error['ctx'].get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"'{name}' must be at most {error['ctx'].get('le', error['ctx'].get('lt'))}"
    if kind == "value_error":
        reason = str(error["msg"]).removeprefix("Value error, ")
        return f"{show_path(path)} {reason}" if path else reason
    return f"'{name}': {error['msg']}"


def _pattern_hint(pattern: str) -> str:
    return {
        r"^[a-z0-9_]+$": "use only lowercase letters a-z, digits and _",
        r"^[a-z0-9_-]+$": "use only lowercase letters a-z, digits, - and _",
        r"^[A-Za-z_][A-Za-z0-9_]*$": "use letters, digits and _ (like MARA_BOT_TOKEN)",
        TIME_PATTERN: 'write a time of day from 00:00 to 24:00, in quotes, like "19:00"',
    }.get(pattern, "use a language code like be, ru or en" if "a-z]{2,3}" in pattern else f"must match {pattern}")
