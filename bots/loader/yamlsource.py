"""Read a YAML file into plain Python data and remember where every value came from.

Organisers need `file:line:column` in every message, so the loader keeps, for each path
of keys and indexes (`("nodes", "welcome", "options", 0, "next")`), the position of the key
and of the value. PyYAML's C parser builds the node tree; we turn it into data ourselves so
that duplicate keys (which PyYAML silently overwrites) are reported instead of lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bots.loader import cache
from bots.loader.diagnostics import Diagnostic, Position
from bots.loader.yamlhints import explain

# the C parser is many times faster; fall back where PyYAML was built without libyaml
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR_TAG = "tag:yaml.org,2002:str"
BOOL_TAG = "tag:yaml.org,2002:bool"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_DEFAULT_TAGS = {
    yaml.ScalarNode: STR_TAG,
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}
# plain words YAML 1.1 reads as booleans or null; any other word starting with a letter is text
_WORDS = {
    w: "tag:yaml.org,2002:bool"
    for w in "yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF y Y n N".split()
    if w not in ("y", "Y", "n", "N")
} | {w: "tag:yaml.org,2002:null" for w in ("null", "Null", "NULL")}


_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """The C loader with a fast path for the commonest scalars: plain words are text."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0] and value[:1].isalpha():
            return _WORDS.get(value, STR_TAG)
        if kind is yaml.ScalarNode and not implicit[0]:
            return STR_TAG
        if kind is not yaml.ScalarNode:
            return _DEFAULT_TAGS[kind]
        if _PLAIN_INT.fullmatch(value):
            return "tag:yaml.org,2002:int"
        return str(super().resolve(kind, value, implicit))


PathKey = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Positions of the keys and values of one YAML document."""

    file: str
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)
    #: how a value that YAML read as true/false/a date was written (`yes`, `on`...)
    raw: dict[PathKey, str] = field(default_factory=dict)

    def at(self, path: PathKey, *, key: bool = False) -> Position:
        """The position of `path`, or of its nearest ancestor that exists in the file."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(self.file, 1, 1))


@dataclass
class YamlDocument:
    data: Any
    source: SourceMap
    text: str


class YamlError(Exception):
    """The file is not valid YAML; `diagnostic` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.render())
        self.diagnostic = diagnostic


def _syntax_error(file: str, err: yaml.MarkedYAMLError, text: str) -> Diagnostic:
    mark = err.problem_mark or err.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (err.problem or err.context or "cannot read this file").strip()
    better = explain(text, line, column, problem, err.context)
    if better is not None:
        return Diagnostic.error(Position(file, better.line, better.column), f"YAML syntax: {better.message}")
    message = f"YAML syntax: {problem}"
    if err.context and err.problem and err.context != err.problem:
        message = f"YAML syntax: {problem} ({err.context.strip()})"
    return Diagnostic.error(Position(file, line, column), message)


def show(path: PathKey) -> str:
    """A path as organisers read it: `options[1].label`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pos(file: str, node: yaml.Node) -> Position:
    return Position(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.source = SourceMap(file)
        self.duplicates: list[Diagnostic] = []
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.source.values[path] = _pos(self.file, node)
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            result: dict[Any, Any] = {}
            first_seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    key = str(key)
                if isinstance(key, bool) or key is None:
                    # `yes:`/`no:`/`null:` as keys are nearly always a mistake; keep their text
                    key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key)
                if key in first_seen:
                    first = first_seen[key]
                    self.duplicates.append(
                        Diagnostic.error(
                            _pos(self.file, key_node),
                            f"duplicate key '{key}' (first defined at line {first.start_mark.line + 1})",
                            path=path + (key,),
                        )
                    )
                    continue
                first_seen[key] = key_node
                child = path + (key,)
                self.source.keys[child] = _pos(self.file, key_node)
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        if node.tag == STR_TAG:
            return node.value
        if node.tag in (BOOL_TAG, TIMESTAMP_TAG):
            self.source.raw[path] = node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except ValueError:  # 2027-31-12: the shape of a date, but no such day
            where = show(path) or "the value"
            raise YamlError(
                Diagnostic.error(_pos(self.file, node), f"'{where}' must be a date like 2027-12-31, not '{node.value}'")
            ) from None


def parse_yaml(text: str, file: str) -> tuple[YamlDocument, list[Diagnostic]]:
    """Parse one YAML document. Raises `YamlError` on a syntax error.

    Returns the document and the duplicate-key errors found while building it. A text parsed
    before (under the same name) is not parsed again (`bots.loader.cache`); the document
    returned is then shared, so it must not be changed.
    """
    return _unwrap(cache.remembered(file, text, lambda: _parsed(text, file), from_file=False))


def _unwrap(outcome: tuple[YamlDocument, list[Diagnostic]] | Diagnostic) -> tuple[YamlDocument, list[Diagnostic]]:
    if isinstance(outcome, Diagnostic):
        raise YamlError(outcome)
    document, duplicates = outcome
    return document, list(duplicates)


def _parsed(text: str, file: str) -> tuple[YamlDocument, list[Diagnostic]] | Diagnostic:
    try:
        return _parse(text, file)
    except YamlError as err:
        return err.diagnostic


def _parse(text: str, file: str) -> tuple[YamlDocument, list[Diagnostic]]:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        raise YamlError(_syntax_error(file, err, text)) from None
    except yaml.YAMLError as err:  # pragma: no cover - unmarked errors are rare
        raise YamlError(Diagnostic.error(Position(file, 1, 1), f"YAML syntax: {err}")) from None
    builder = _Builder(file)
    if root is None:
        builder.source.values[()] = Position(file, 1, 1)
        return YamlDocument(None, builder.source, text), []
    try:
        data = builder.build(root, ())
    except yaml.MarkedYAMLError as err:  # e.g. an unknown tag
        raise YamlError(_syntax_error(file, err, text)) from None
    return YamlDocument(data, builder.source, text), builder.duplicates


def read_yaml(path: Path, display: str) -> tuple[YamlDocument, list[Diagnostic]]:
    """Read and parse `path`; `display` is how the file is named in messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise YamlError(
            Diagnostic.error(Position(display, 1, 1), f"the file is not UTF-8 text ({err.reason}); save it as UTF-8")
        ) from None
    return _unwrap(cache.remembered(display, text, lambda: _parsed(text, display), from_file=True))
