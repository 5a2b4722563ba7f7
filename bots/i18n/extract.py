"""Babel extraction methods for the organisers' YAML files and the engine's own texts.

Every translatable text becomes a `pgettext` message whose context is the one the engine
looks it up with at run time:

- a flow text (`text`, `error`, option labels, `done` of results): `<flow>:<node>`;
- a catalog item's `title`, `summary`, `eligibility`, `how_to_apply`, `contact`: `<catalog>:<item id>`;
- `help:` of `bot.yaml`: `bot`;
- the engine's own texts (`bots/engine/texts.py`, `BUILTIN`): `bots`.

`topic` of a handoff is for moderators and is not translated. Use the methods from a Babel
mapping file (see `babel.cfg`) or through `babel.messages.extract` (see `bots.i18n.catalogs`).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError

from bots.engine.expressions import plural_words
from bots.engine.model import CatalogItem
from bots.engine.nodes import NODE_TYPES
from bots.engine.texts import BUILTIN_CONTEXT
from bots.i18n.translations import BOT_CONTEXT
from bots.loader.yamlsource import PathKey, SourceMap, YamlError, parse_yaml, show

__all__ = [
    "BOT_CONTEXT",
    "BUILTIN_CONTEXT",
    "FileTexts",
    "FoundText",
    "builtin_texts",
    "extract_builtin",
    "extract_flows",
    "read_texts",
]

CATALOG_FIELDS = ("title", "summary", "eligibility", "how_to_apply", "contact")
FileKind = Literal["bot", "flow", "catalog", "canned", "other"]
#: what Babel's extraction methods yield: (line, function name, messages, comments)
Extracted = tuple[int, str, tuple[str, ...], list[str]]

_TEMPLATE_NOTE = "Keep the parts in {{ }} exactly as they are: the bot fills them in."
_FORMAT_NOTE = "Keep the parts in { } exactly as they are: the bot fills them in."


@dataclass(frozen=True)
class FoundText:
    """One translatable text and where it is written."""

    line: int
    column: int
    context: str
    message: str
    #: what holds the text, as organisers name it: `node 'menu'`, `item 'legal-aid'`, `` for bot.yaml
    owner: str
    #: the key of the text within its owner: `text`, `options[0].label`, `help`
    key: str

    @property
    def where(self) -> str:
        """`node 'menu': options[0].label`, for messages and translators' comments."""
        if self.owner and self.key:
            return f"{self.owner}: {self.key}"
        return self.owner or self.key

    def comments(self) -> list[str]:
        """Comments for translators (`#.` lines in the .po file)."""
        notes = [self.where]
        if "{{" in self.message:
            notes.append(_TEMPLATE_NOTE)
        elif self.context == BUILTIN_CONTEXT and "{" in self.message:
            notes.append(_FORMAT_NOTE)
        return notes


@dataclass
class FileTexts:
    """The texts of one file, and what kind of file it is (`name` is the flow id or catalog)."""

    kind: FileKind
    name: str
    texts: list[FoundText] = field(default_factory=list)


def _found(source: SourceMap, path: PathKey, context: str, text: str, owner: str, key: PathKey) -> FoundText:
    position = source.at(path)
    return FoundText(position.line, position.column, context, text, owner, show(key))


def _flow_texts(data: dict[str, Any], source: SourceMap, flow_id: str) -> list[FoundText]:
    found: list[FoundText] = []
    for node_id, raw in data["nodes"].items():
        if not isinstance(raw, dict):
            continue
        model = NODE_TYPES.get(str(raw.get("type")))
        if model is None:
            continue
        try:
            node = model.model_validate(raw)
        except ValidationError:
            continue  # `bots check` reports it; a broken node is never shown to anyone
        for path, text in node.texts():
            if text:
                found.append(_found(source, ("nodes", node_id, *path), f"{flow_id}:{node_id}", text, f"node '{node_id}'", path))
    return found


def _catalog_texts(data: dict[str, Any], source: SourceMap, catalog: str) -> list[FoundText]:
    found: list[FoundText] = []
    for index, raw in enumerate(data["items"]):
        try:
            item = CatalogItem.model_validate(raw)
        except ValidationError:
            continue
        for name in CATALOG_FIELDS:
            text = getattr(item, name)
            if text:
                found.append(_found(source, ("items", index, name), f"{catalog}:{item.id}", text, f"item '{item.id}'", (name,)))
    return found


def read_texts(text: str, filename: str) -> FileTexts:
    """The translatable texts of one YAML file (`filename` names it and tells a bot.yaml).

    A bot.yaml gives its `help`; a flow its nodes' texts; a catalog its items' titles,
    summaries and contacts. Other YAML files (conversation tests...) give nothing. Nodes and
    items that do not validate are left out (`bots check` reports them). Raises `YamlError`
    when the file is not YAML.
    """
    document, _ = parse_yaml(text, filename)
    data, source = document.data, document.source
    stem = Path(filename).stem
    if not isinstance(data, dict):
        return FileTexts("other", stem)
    if stem == "bot" and "nodes" not in data:
        texts = [
            _found(source, (key,), BOT_CONTEXT, data[key], "", (key,))
            for key in ("name", "help")
            if isinstance(data.get(key), str) and data[key]
        ]
        return FileTexts("bot", BOT_CONTEXT, texts)
    if isinstance(data.get("nodes"), dict):
        flow_id = str(data.get("id") or stem)
        return FileTexts("flow", flow_id, _flow_texts(data, source, flow_id))
    if stem == "canned" and isinstance(data.get("canned"), dict):
        texts = [
            _found(source, ("canned", name), f"canned:{name}", text, f"canned reply '{name}'", ())
            for name, text in data["canned"].items()
            if isinstance(text, str) and text
        ]
        return FileTexts("canned", "canned", texts)
    if "catalog" in data and isinstance(data.get("items"), list):
        catalog = str(data["catalog"])
        return FileTexts("catalog", catalog, _catalog_texts(data, source, catalog))
    return FileTexts("other", stem)


def builtin_texts(source: str, filename: str = "texts.py") -> list[FoundText]:
    """The engine's own texts: the values of the `BUILTIN` dict in `source` (Python).

    The file is read, never imported, as Babel's extractors do.
    """
    found: list[FoundText] = []
    for statement in ast.parse(source, filename).body:
        target: ast.expr | None = None
        if isinstance(statement, ast.AnnAssign):
            target = statement.target
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        value_node = getattr(statement, "value", None)
        if not (isinstance(target, ast.Name) and target.id == "BUILTIN" and isinstance(value_node, ast.Dict)):
            continue
        for key, value in zip(value_node.keys, value_node.values, strict=True):
            if key is None:
                continue
            name, text = ast.literal_eval(key), ast.literal_eval(value)
            if isinstance(text, str) and text:
                found.append(FoundText(value.lineno, value.col_offset + 1, BUILTIN_CONTEXT, text, "builtin", str(name)))
    return found


def _decode(fileobj: IO[bytes], options: Mapping[str, Any]) -> str:
    raw = fileobj.read()
    return raw.decode(options.get("encoding", "utf-8")) if isinstance(raw, bytes) else str(raw)


def _yielded(texts: list[FoundText]) -> Iterator[Extracted]:
    for text in texts:
        yield text.line, "pgettext", (text.context, text.message), text.comments()
        for offset, singular, plural in plural_words(text.message):
            note = f"{text.where}: the word counted by plural() in this text; one form per plural category"
            yield text.line + offset - 1, "npgettext", (text.context, singular, plural), [note]


def extract_flows(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[Extracted]:
    """Babel extraction method for bot.yaml, flow and catalog files.

    Yields `(line, "pgettext", (context, text), comments)` for every translatable text, so
    that each `.po` entry carries `msgctxt`. Files that are neither (conversation tests) yield
    nothing. A file that is not YAML raises `ValueError` with the place and the reason.
    """
    filename = str(getattr(fileobj, "name", "") or options.get("filename", "flow.yaml"))
    try:
        found = read_texts(_decode(fileobj, options), filename)
    except YamlError as err:
        raise ValueError(err.diagnostic.render()) from None
    yield from _yielded(found.texts)


def extract_builtin(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[Extracted]:
    """Babel extraction method for `bots/engine/texts.py`: every `BUILTIN` text, context `bots`."""
    filename = str(getattr(fileobj, "name", "") or "texts.py")
    yield from _yielded(builtin_texts(_decode(fileobj, options), filename))
