"""The Bot API method table of the stand-in, loaded once from ``botapi-methods.json``.

Every field gets a *kind* when the table is loaded, so decoding a request is a dictionary
lookup per parameter: no spec parsing happens on the request path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bots.testing.standin.errors import ApiError, bad_request

SPEC_PATH = Path(__file__).with_name("botapi-methods.json")

# Field kinds: how a value sent as a form string is turned into a Python value.
INT = "int"
FLOAT = "float"
BOOL = "bool"
STR = "str"
INT_OR_STR = "int_or_str"  # chat_id: an integer id or an @username
FILE = "file"  # InputFile or String (file_id, URL, attach://name)
JSON = "json"  # an object or an array, JSON-encoded in form bodies

_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One parameter of a method: its name, the spec's type names, whether required, its kind."""

    name: str
    types: tuple[str, ...]
    required: bool
    kind: str


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """One Bot API method: canonical name, fields by name, required field names, return types."""

    name: str
    fields: dict[str, FieldSpec]
    required: tuple[str, ...]
    returns: tuple[str, ...]

    @property
    def returns_true(self) -> bool:
        """Whether the method's only result is ``True`` (so a generic answer is plausible)."""
        return set(self.returns) <= {"True", "Boolean"}


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """The whole table: methods keyed by lower-cased name (Telegram matches names case-insensitively)."""

    version: str
    licence: str
    methods: dict[str, MethodSpec]
    update_types: tuple[str, ...]

    def method(self, name: str) -> MethodSpec | None:
        """Find a method by any capitalisation of its name."""
        return self.methods.get(name.lower())


def _kind(types: list[str], object_types: set[str]) -> str:
    if "InputFile" in types:
        return FILE
    if any(t.startswith("Array of") or t in object_types for t in types):
        return JSON
    kinds = set(types)
    if kinds == {"Integer"}:
        return INT
    if kinds == {"Integer", "String"}:
        return INT_OR_STR
    if kinds <= {"Float", "Integer"}:
        return FLOAT
    if kinds == {"Boolean"}:
        return BOOL
    return STR


@lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> ApiSpec:
    """Load (once per path) the method table written by ``make_spec.py``."""
    data = json.loads(Path(path or SPEC_PATH).read_text(encoding="utf-8"))
    object_types = set(data["object_types"])
    methods: dict[str, MethodSpec] = {}
    for name, method in data["methods"].items():
        fields = {
            fname: FieldSpec(fname, tuple(f["types"]), bool(f["required"]), _kind(f["types"], object_types))
            for fname, f in method["fields"].items()
        }
        required = tuple(f.name for f in fields.values() if f.required)
        methods[name.lower()] = MethodSpec(name, fields, required, tuple(method["returns"]))
    return ApiSpec(data["version"], data["licence"], methods, tuple(data.get("update_types", ())))


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise bad_request(f'field "{name}" must be of type Integer')


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off", ""):
            return False
    raise bad_request(f'field "{name}" must be of type Boolean')


def decode_value(field: FieldSpec, value: Any) -> Any:
    """Turn one raw parameter (form string or JSON value) into its typed value.

    Uploaded files (anything that is not a ``str``) are passed through for FILE fields.
    """
    kind = field.kind
    if kind == STR:
        return value if isinstance(value, str) else (json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    if kind == INT:
        return _to_int(field.name, value)
    if kind == INT_OR_STR:
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.lstrip("-").isdigit():
                return int(stripped)
            return stripped
        return _to_int(field.name, value)
    if kind == BOOL:
        return _to_bool(field.name, value)
    if kind == FLOAT:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{field.name}" must be of type Float') from None
    if kind == JSON:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                if "String" in field.types:
                    return value
                raise bad_request(_JSON_ERRORS.get(field.name, f"can't parse {field.name} JSON object")) from None
        return value
    return value  # FILE: str (file_id / URL / attach://) or an uploaded file


def decode_params(method: MethodSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """Decode every known field of ``raw``; unknown fields are kept as sent (Telegram ignores them)."""
    fields = method.fields
    out: dict[str, Any] = {}
    for name, value in raw.items():
        field = fields.get(name)
        out[name] = value if field is None or value is None else decode_value(field, value)
    return out


# Telegram's wording for some missing required fields; the rest are "<field> is empty".
_EMPTY_MESSAGES = {
    ("sendmessage", "text"): "message text is empty",
    ("editmessagetext", "text"): "message text is empty",
}


def check_required(method: MethodSpec, params: dict[str, Any]) -> None:
    """Raise Telegram's 400 for the first required field that is missing or an empty string."""
    for name in method.required:
        value = params.get(name)
        if value is None or value == "" or value == []:
            lname = method.name.lower()
            raise bad_request(_EMPTY_MESSAGES.get((lname, name), f"{name} is empty"))


__all__ = [
    "ApiError",
    "ApiSpec",
    "FieldSpec",
    "MethodSpec",
    "check_required",
    "decode_params",
    "decode_value",
    "load_spec",
]
