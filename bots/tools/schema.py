"""`bots schema`: JSON Schemas for the organisers' files, generated from the loader's models.

Editors that speak the YAML language server (VS Code with the YAML extension, and others)
complete keys and flag mistakes as organisers type, once a file names its schema on its
first line: `# yaml-language-server: $schema=../../schemas/flow.schema.json`.

The schemas are made from the same pydantic models that `bots check` validates with
(`bots/engine/model.py` and the node types), never by hand: titles and descriptions come
from the models' docstrings and the `#:` comments above their fields. They are written as
JSON Schema draft-07, the newest draft the YAML language server fully understands.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from bots.engine.model import BotConfig, Catalog, ConversationTest, Flow
from bots.loader.load import NOT_CATALOGS, YAML_SUFFIXES
from bots.tools.fielddocs import field_comments, mentioning, prose

DRAFT = "http://json-schema.org/draft-07/schema#"
FOLDER = "schemas"
MODELINE = "# yaml-language-server: $schema="


@dataclass(frozen=True)
class Kind:
    """One kind of organisers' file and its schema."""

    name: str  # bot, flow, catalog, test
    title: str
    files: str  # where such files live, as organisers read it

    @property
    def file_name(self) -> str:
        return f"{self.name}.schema.json"


KINDS: tuple[Kind, ...] = (
    Kind("bot", "A bot", "flows/<bot>/bot.yaml"),
    Kind("flow", "A flow", "flows/<bot>/<flow>.yaml"),
    Kind("catalog", "A catalog", "knowledge/<catalog>.yaml"),
    Kind("test", "Conversation tests", "flows/<bot>/tests/*.yaml"),
)


# --- generation -------------------------------------------------------------------------


@functools.cache
def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> what it means: the `#:` comments above the field (or a docstring right
    below it), else the sentence of the model's docstring that names the key in backticks,
    preferring one that starts with it (`bots.tools.fielddocs`, which the guide reads too)."""
    docs = field_comments(model)
    texts = [prose(model)]
    for name, info in model.model_fields.items():
        sentence = "" if name in docs else mentioning(info.alias or name, texts)
        if sentence:
            docs[name] = sentence
    return docs


class _Generator(GenerateJsonSchema):
    """pydantic's generator, tuned for editors and for what the loader really accepts."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # "Next" as the title of `next` tells nobody anything

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        config = getattr(self, "_config", None)
        if getattr(config, "coerce_numbers_to_str", False):
            # the loader takes `outcome: 2024` as the text "2024": so does the schema
            json_schema["type"] = ["string", "number"]
        return json_schema

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        model: type[BaseModel] = schema["cls"]
        properties = json_schema.get("properties", {})
        for name, doc in field_docs(model).items():
            info = model.model_fields.get(name)
            key = (info.alias or name) if info is not None else None
            if key in properties and "description" not in properties[key]:
                properties[key]["description"] = doc
        node_type = model.model_fields.get("type")
        literal: tuple[Any, ...] = getattr(node_type.annotation, "__args__", ()) if node_type is not None else ()
        if "type" in properties and len(literal) == 1 and isinstance(literal[0], str):
            json_schema["title"] = f"{literal[0]} node"  # a node type: "choice node"
        return json_schema


def _draft7(value: Any) -> Any:
    """pydantic writes draft 2020-12; make it draft-07: `definitions`, and no siblings of `$ref`."""
    if isinstance(value, list):
        return [_draft7(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {("definitions" if key == "$defs" else key): _draft7(item) for key, item in value.items()}
    discriminator = result.get("discriminator")
    mapping = discriminator.get("mapping") if isinstance(discriminator, dict) else None
    if isinstance(mapping, dict):  # not a draft-07 keyword, but informative: keep its refs right
        result["discriminator"]["mapping"] = {k: str(v).replace("#/$defs/", "#/definitions/") for k, v in mapping.items()}
    patterns = result.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "properties" not in result and "additionalProperties" not in result:
        # a mapping whose keys must match a pattern (node ids): every value is checked, and a
        # key that does not match is an error, as in the loader, not silently let through
        ((pattern, values),) = patterns.items()
        del result["patternProperties"]
        result["propertyNames"] = {"pattern": pattern}
        result["additionalProperties"] = values
    if "$ref" in result:
        result["$ref"] = result["$ref"].replace("#/$defs/", "#/definitions/")
        if len(result) > 1:  # draft-07 ignores keywords beside `$ref`
            ref = result.pop("$ref")
            result = {"allOf": [{"$ref": ref}], **result}
    if isinstance(result.get("description"), str) and "markdownDescription" not in result:
        result["markdownDescription"] = result["description"]  # editors render it as Markdown
    return result


def _schema_of(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    return dict(adapter.json_schema(schema_generator=_Generator, ref_template="#/$defs/{model}"))


def generate(kind: Kind) -> dict[str, Any]:
    """The JSON Schema for one kind of file."""
    models: dict[str, Any] = {"bot": BotConfig, "flow": Flow, "catalog": Catalog, "test": list[ConversationTest]}
    body = _schema_of(TypeAdapter(models[kind.name]))
    head: dict[str, Any] = {"$schema": DRAFT, "title": f"{kind.title}: {kind.files}"}
    if kind.name == "test":
        head["description"] = "A list of conversation tests, each starting with `- name:`."
    else:
        head["description"] = body.pop("description", "")
        body.pop("title", None)
    head["$comment"] = "Generated by 'bots schema' from the models in bots/; do not edit by hand."
    return dict(_draft7({**head, **body}))


def render(kind: Kind) -> str:
    """The schema file's text, byte for byte."""
    return json.dumps(generate(kind), indent=2, ensure_ascii=False) + "\n"


# --- writing and checking ---------------------------------------------------------------------


def stale(folder: Path) -> list[Path]:
    """The schema files in `folder` that are missing or differ from what would be generated."""
    out = []
    for kind in KINDS:
        path = folder / kind.file_name
        try:
            current = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != render(kind):
            out.append(path)
    return out


def write(folder: Path) -> list[Path]:
    """Write every schema into `folder`; return the files that changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = stale(folder)
    for path in changed:
        kind = next(k for k in KINDS if k.file_name == path.name)
        path.write_text(render(kind), encoding="utf-8")
    return changed


# --- which file is which --------------------------------------------------------------------


def kind_of(path: Path, root: Path) -> Kind | None:
    """The kind of an organisers' file under `root`, or None if it has no schema."""
    try:
        parts = path.resolve().relative_to(root.resolve()).parts
    except ValueError:
        return None
    if not parts or not parts[-1].endswith(YAML_SUFFIXES):
        return None
    stem = PurePosixPath(parts[-1]).stem
    by_name = {k.name: k for k in KINDS}
    if len(parts) == 2 and parts[0] == "knowledge":
        return None if stem in NOT_CATALOGS else by_name["catalog"]
    if len(parts) == 3 and parts[0] == "flows":
        return by_name["bot"] if stem == "bot" else by_name["flow"]
    if len(parts) == 4 and parts[0] == "flows" and parts[2] == "tests":
        return by_name["test"]
    return None


def organisers_files(root: Path) -> Iterator[tuple[Path, Kind]]:
    """Every bot, flow, catalog and test file of the project, with its kind, in order."""
    candidates = sorted([*root.glob("flows/*/*"), *root.glob("flows/*/tests/*"), *root.glob("knowledge/*")])
    for path in candidates:
        kind = kind_of(path, root) if path.is_file() else None
        if kind is not None:
            yield path, kind


def modeline(path: Path, kind: Kind, root: Path, folder: Path | None = None) -> str:
    """The first line that names `kind`'s schema for the file at `path`, relative to it."""
    target = (folder or root / FOLDER) / kind.file_name
    relative = Path(os.path.relpath(target.resolve(), path.resolve().parent))
    return f"{MODELINE}{relative.as_posix()}"
