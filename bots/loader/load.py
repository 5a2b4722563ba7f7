"""Find and read the organisers' files: bots, flows, catalogs and conversation tests."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bots.engine.model import BotConfig, CannedReplies, Catalog, ConversationTest, Flow
from bots.engine.nodes import NODE_TYPES
from bots.engine.nodes.base import Node
from bots.engine.project import LoadedBot, Project
from bots.loader.diagnostics import Diagnostic, DiagnosticList, Position, suggest
from bots.loader.validate import validate
from bots.loader.yamlsource import PathKey, SourceMap, YamlError, parse_yaml, read_yaml

YAML_SUFFIXES = (".yaml", ".yml")
BOT_TOKEN = re.compile(r"(?<![\w:])\d{5,12}:[A-Za-z0-9_-]{30,}(?![\w-])")
NOT_CATALOGS = {"canned"}  # knowledge files of other kinds, read by the parts that use them


@dataclass
class Origins:
    """Where each loaded thing came from, for the checks that run after loading."""

    bots: dict[str, SourceMap] = field(default_factory=dict)
    flows: dict[str, SourceMap] = field(default_factory=dict)  # qualified flow id
    catalogs: dict[str, SourceMap] = field(default_factory=dict)
    canned: SourceMap | None = None
    tests: dict[str, list[tuple[SourceMap, int, ConversationTest]]] = field(default_factory=dict)
    #: raw node data by qualified flow id, for node types that failed to validate
    broken_nodes: dict[str, set[str]] = field(default_factory=dict)
    libraries: set[str] = field(default_factory=set)
    #: qualified ids of flows whose file could not be read (so references to them are not news)
    unreadable_flows: set[str] = field(default_factory=set)
    #: names (file stems) of catalogs whose file could not be read
    unreadable_catalogs: set[str] = field(default_factory=set)


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _nested_keys(top: type[BaseModel]) -> Any:
    """A `fields_of` for `validate`: the allowed keys at a path inside `top`."""

    def fields_of(path: PathKey) -> list[str]:
        model: Any = top
        for part in path:
            if isinstance(part, int):
                continue
            info = getattr(model, "model_fields", {}).get(part)
            if info is None:
                return []
            annotation = info.annotation
            for candidate in getattr(annotation, "__args__", ()) + (annotation,):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    model = candidate
                    break
                inner = getattr(candidate, "__args__", ())
                found = [a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)]
                if found:
                    model = found[0]
                    break
        return _keys_of(model) if isinstance(model, type) and issubclass(model, BaseModel) else []

    return fields_of


class ProjectLoader:
    """Reads a project folder (the one holding `flows/` and `knowledge/`)."""

    def __init__(
        self,
        root: Path,
        *,
        display_base: Path | None = None,
        today: dt.date | None = None,
        texts: Mapping[Path, str] | None = None,
    ) -> None:
        self.root = root
        #: unsaved contents that stand for files on disk (resolved path -> text): `bots studio`
        #: checks what is typed against the project without writing it
        self.texts = texts or {}
        self.display_base = display_base or Path.cwd()
        self.today = today or dt.date.today()
        self.diagnostics = DiagnosticList()
        self.origins = Origins()
        self.project = Project(root=root)

    def display(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.display_base)
        except ValueError:  # another drive on Windows
            return str(path)

    def _read(self, path: Path) -> tuple[Any, SourceMap] | None:
        try:
            typed = self.texts.get(path.resolve()) if self.texts else None
            if typed is None:
                document, duplicates = read_yaml(path, self.display(path))
            else:
                document, duplicates = parse_yaml(typed, self.display(path))
        except YamlError as err:
            self.diagnostics.append(err.diagnostic)
            return None
        for dup in duplicates:
            self.diagnostics.append(_rename_duplicate(dup))
        self._warn_about_tokens(document.text, document.source.file)
        return document.data, document.source

    def _warn_about_tokens(self, text: str, file: str) -> None:
        """Organisers' files are shared and versioned: a bot token there lets anyone run the bot."""
        if ":" not in text:
            return
        for number, line in enumerate(text.splitlines(), start=1):
            for match in BOT_TOKEN.finditer(line):
                self.diagnostics.append(
                    Diagnostic.warning(
                        Position(file, number, match.start() + 1),
                        "this looks like a Telegram bot token: never put tokens in these files; "
                        "set the environment variable named by 'token_env' instead, and revoke this token with @BotFather",
                    )
                )

    # --- catalogs -----------------------------------------------------------------------

    def load_catalogs(self) -> None:
        folder = self.root / "knowledge"
        if not folder.is_dir():
            return
        for path in sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file()):
            if path.stem in NOT_CATALOGS:
                self.load_canned(path)
                continue
            read = self._read(path)
            if read is None:
                self.origins.unreadable_catalogs.add(path.stem)
                continue
            data, source = read
            if not isinstance(data, dict) or ("catalog" not in data and "items" not in data):
                self.diagnostics.append(
                    Diagnostic.error(source.at(()), "not a catalog: a catalog file starts with 'catalog: <name>' and has 'items'")
                )
                continue
            catalog, problems = validate(Catalog, data, source, where="", fields_of=_nested_keys(Catalog))
            self.diagnostics.extend(problems)
            if catalog is None:
                self.origins.unreadable_catalogs.add(str(data.get("catalog") or path.stem))
                continue
            if catalog.catalog in self.project.catalogs:
                first = self.origins.catalogs[catalog.catalog].file
                self.diagnostics.append(
                    Diagnostic.error(source.at(("catalog",)), f"catalog '{catalog.catalog}' is already defined in {first}")
                )
                continue
            self.project.catalogs[catalog.catalog] = catalog
            self.origins.catalogs[catalog.catalog] = source

    def load_canned(self, path: Path) -> None:
        read = self._read(path)
        if read is None:
            return
        data, source = read
        if not isinstance(data, dict) or "canned" not in data:
            self.diagnostics.append(
                Diagnostic.error(
                    source.at(()), "not a list of canned replies: this file starts with 'canned:' and then 'name: text' lines"
                )
            )
            return
        canned, problems = validate(CannedReplies, data, source, where="", fields_of=_nested_keys(CannedReplies))
        self.diagnostics.extend(problems)
        if canned is not None:
            self.project.canned = dict(canned.canned)
            self.origins.canned = source

    # --- bots and flows -----------------------------------------------------------------

    def load_bots(self) -> None:
        folder = self.root / "flows"
        if not folder.is_dir():
            return
        for bot_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            self.load_bot(bot_dir)

    def load_bot(self, bot_dir: Path) -> None:
        bot_id = bot_dir.name
        config_path = next((bot_dir / f"bot{s}" for s in YAML_SUFFIXES if (bot_dir / f"bot{s}").exists()), None)
        config: BotConfig | None = None
        if config_path is not None:
            read = self._read(config_path)
            if read is None:
                return
            data, source = read
            config, problems = validate(BotConfig, data, source, fields_of=_nested_keys(BotConfig))
            self.diagnostics.extend(problems)
            if config is None:
                return
            self.origins.bots[bot_id] = source
        else:
            # a folder of shared flows without a bot of its own (an extension of the format)
            self.origins.libraries.add(bot_id)
            config = BotConfig.model_construct(
                name=bot_id, start="", source_locale="en", locales=["en"], token_env="", retention_days=30
            )
        bot = LoadedBot(id=bot_id, config=config)
        self.project.bots[bot_id] = bot
        for path in sorted(p for p in bot_dir.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file()):
            if path.stem == "bot":
                continue
            self.load_flow(path, bot)
        tests_dir = bot_dir / "tests"
        if tests_dir.is_dir():
            for path in sorted(p for p in tests_dir.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file()):
                self.load_tests(path, bot)

    def load_flow(self, path: Path, bot: LoadedBot) -> None:
        read = self._read(path)
        if read is None:
            self.origins.unreadable_flows.add(f"{bot.id}/{path.stem}")
            return
        data, source = read
        if not isinstance(data, dict):
            self.diagnostics.append(Diagnostic.error(source.at(()), "a flow file must be a mapping with 'start' and 'nodes'"))
            self.origins.unreadable_flows.add(f"{bot.id}/{path.stem}")
            return
        raw_nodes = data.get("nodes")
        top = {k: v for k, v in data.items() if k != "nodes"}
        top["nodes"] = {"_": {"type": "end", "text": "-"}} if isinstance(raw_nodes, dict) and raw_nodes else raw_nodes
        if raw_nodes is None:
            top.pop("nodes")
        header, problems = validate(Flow, top, source, fields_of=_nested_keys(Flow))
        self.diagnostics.extend(problems)
        if header is None:
            self.origins.unreadable_flows.add(f"{bot.id}/{data.get('id') or path.stem}")
            return
        flow_id = header.id or path.stem
        qualified = f"{bot.id}/{flow_id}"
        if flow_id in bot.flows:
            first = self.origins.flows[qualified].file
            self.diagnostics.append(
                Diagnostic.error(source.at(("id",) if header.id else ()), f"flow id '{flow_id}' is already used by {first}")
            )
            return
        nodes: dict[str, Node] = {}
        broken: set[str] = set()
        for node_id, raw in (raw_nodes or {}).items():
            node = self._load_node(str(node_id), raw, source)
            if node is None:
                broken.add(str(node_id))
            else:
                nodes[str(node_id)] = node
        flow = Flow.model_construct(id=header.id, start=header.start, nodes=nodes)
        bot.flows[flow_id] = flow
        self.origins.flows[qualified] = source
        self.origins.broken_nodes[qualified] = broken

    def _load_node(self, node_id: str, raw: Any, source: SourceMap) -> Node | None:
        base: PathKey = ("nodes", node_id)
        where = f"node '{node_id}': "
        if not isinstance(raw, dict):
            self.diagnostics.append(
                Diagnostic.error(source.at(base), f"{where}a node must be a mapping with a 'type' and its keys")
            )
            return None
        kind = raw.get("type")
        if kind is None:
            self.diagnostics.append(
                Diagnostic.error(source.at(base, key=True), f"{where}missing key 'type' (one of: {', '.join(NODE_TYPES)})")
            )
            return None
        model = NODE_TYPES.get(str(kind))
        if model is None:
            self.diagnostics.append(
                Diagnostic.error(
                    source.at(base + ("type",)),
                    f"{where}unknown node type '{kind}'{suggest(str(kind), NODE_TYPES)}; the types are: {', '.join(NODE_TYPES)}",
                )
            )
            return None
        node, problems = validate(model, raw, source, base, where=where, fields_of=_nested_keys(model))
        self.diagnostics.extend(problems)
        if node is not None:
            node.set_id(node_id)
        return node

    def load_tests(self, path: Path, bot: LoadedBot) -> None:
        read = self._read(path)
        if read is None:
            return
        data, source = read
        if not isinstance(data, list):
            self.diagnostics.append(
                Diagnostic.error(source.at(()), "a test file is a list of tests, each starting with '- name:'")
            )
            return
        tests = []
        for index, raw in enumerate(data):
            name = raw.get("name") if isinstance(raw, dict) else None
            test, problems = validate(
                ConversationTest,
                raw,
                source,
                (index,),
                where=f"test '{name}': " if name else f"test {index + 1}: ",
                fields_of=_nested_keys(ConversationTest),
            )
            self.diagnostics.extend(problems)
            if test is not None:
                tests.append(test)
                self.origins.tests.setdefault(bot.id, []).append((source, index, test))
        bot.tests[self.display(path)] = tests

    def load(self) -> Project:
        self.load_catalogs()
        self.load_bots()
        return self.project


def _rename_duplicate(diagnostic: Diagnostic) -> Diagnostic:
    """`duplicate key` reads better as `duplicate node id` where the keys are node ids."""
    path = diagnostic.path
    if len(path) == 2 and path[0] == "nodes":
        message = diagnostic.message.replace("duplicate key", "duplicate node id", 1)
        return Diagnostic(diagnostic.position, diagnostic.severity, message, path)
    if len(path) > 2 and path[0] == "nodes":
        return Diagnostic(diagnostic.position, diagnostic.severity, f"node '{path[1]}': {diagnostic.message}", path)
    return diagnostic


def position_of(origins: Origins, flow: str, path: PathKey, *, key: bool = False) -> Position:
    return origins.flows[flow].at(path, key=key)
