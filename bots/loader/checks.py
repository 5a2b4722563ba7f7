"""Checks that need the whole project: references, expressions, limits, and warnings."""

from __future__ import annotations

import datetime as dt
import re

from bots.engine import expressions
from bots.engine.inputs import resolve_day
from bots.engine.model import CANNED_NAME_PATTERN, ID_PATTERN
from bots.engine.nodes import ChoiceNode, HandoffNode, InputNode, ResultsNode, SetNode
from bots.engine.nodes.base import Node
from bots.engine.project import Project, qualify_flow, split_target
from bots.engine.runtime import RESERVED_VARIABLES
from bots.loader.diagnostics import Diagnostic, DiagnosticList, Position, suggest
from bots.loader.flowgraph import FlowGraph, reads
from bots.loader.load import Origins
from bots.loader.yamlsource import PathKey, show

TELEGRAM_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
BUILTIN_NAMES = frozenset({"user", "bot", "min", "max", "len", "true", "false", "none", "True", "False", "None"})

NodeKey = tuple[str, str]  # (qualified flow, node id)


class ProjectChecker:
    def __init__(self, project: Project, origins: Origins, diagnostics: DiagnosticList, today: dt.date) -> None:
        self.project = project
        self.origins = origins
        self.diagnostics = diagnostics
        self.today = today
        self.incomplete: set[str] = set()

    def _broken_edge(self, flow: str) -> None:
        """A reference in `flow` names nothing: its graph is incomplete, so skip graph warnings."""
        self.incomplete.add(flow)

    def _error(self, flow: str, path: PathKey, message: str, *, key: bool = False) -> None:
        self.diagnostics.append(Diagnostic.error(self.origins.flows[flow].at(path, key=key), message, path))

    def _warning(self, flow: str, path: PathKey, message: str, *, key: bool = False) -> None:
        self.diagnostics.append(Diagnostic.warning(self.origins.flows[flow].at(path, key=key), message, path))

    def run(self) -> None:
        self.check_catalogs()
        self.check_canned()
        for bot in self.project.bots.values():
            self.check_bot(bot.id)
            for flow_id, flow in bot.flows.items():
                qualified = f"{bot.id}/{flow_id}"
                self.check_flow(qualified)
        graph = FlowGraph(self.project)
        self.check_reachability(graph)
        for bot_id in self.project.bots:
            if bot_id not in self.origins.libraries:
                self.check_variables(graph, bot_id)
        self.check_tests()

    # --- bots ----------------------------------------------------------------------------

    def check_bot(self, bot_id: str) -> None:
        if bot_id in self.origins.libraries:
            return
        bot = self.project.bots[bot_id]
        source = self.origins.bots[bot_id]
        config = bot.config
        if config.moderators_chat_env is None:
            self._handoffs_without_moderators(bot_id)
        if config.start not in bot.flows and f"{bot_id}/{config.start}" not in self.origins.unreadable_flows:
            self.diagnostics.append(
                Diagnostic.error(
                    source.at(("start",)),
                    f"start flow '{config.start}' does not exist{suggest(config.start, bot.flows)}"
                    + ("" if bot.flows else f"; add flows/{bot_id}/{config.start}.yaml"),
                )
            )
        if config.source_locale not in config.locales:
            self.diagnostics.append(
                Diagnostic.warning(
                    source.at(("source_locale",)),
                    f"source_locale '{config.source_locale}' is not among the locales offered ({', '.join(config.locales)})",
                )
            )
        seen: set[str] = set()
        for index, lang in enumerate(config.locales):
            if lang in seen:
                self.diagnostics.append(Diagnostic.error(source.at(("locales", index)), f"locale '{lang}' is listed twice"))
            seen.add(lang)
        if config.help:
            self._check_text_source(source.at(("help",)), "help", config.help)
        if config.safety:
            qualified = qualify_flow(config.safety, bot_id)
            if self.project.flow(qualified) is None and qualified not in self.origins.unreadable_flows:
                self.diagnostics.append(
                    Diagnostic.error(
                        source.at(("safety",)),
                        f"safety flow '{config.safety}' does not exist{self._suggest_flow(config.safety, f'{bot_id}/-')}",
                    )
                )

    def _handoffs_without_moderators(self, bot_id: str) -> None:
        flows, _ = self.project.reached(bot_id)
        for qualified in sorted(flows):
            flow = self.project.flow(qualified)
            if flow is None or qualified not in self.origins.flows:
                continue
            for node_id, node in flow.nodes.items():
                if isinstance(node, HandoffNode):
                    self._warning(
                        qualified,
                        ("nodes", node_id),
                        f"node '{node_id}' hands the conversation to moderators, but flows/{bot_id}/bot.yaml has no "
                        "'moderators_chat_env': people who reach it will be told no one can answer",
                        key=True,
                    )
                    return

    def _check_text_source(self, position: Position, name: str, text: str) -> None:
        problem = expressions.check_template(text)
        if problem:
            self.diagnostics.append(Diagnostic.error(position, f"{name}: {problem}"))
        if len(text) > TELEGRAM_TEXT_LIMIT:
            self.diagnostics.append(
                Diagnostic.error(position, f"{name} is {len(text)} characters; Telegram allows {TELEGRAM_TEXT_LIMIT}")
            )

    # --- catalogs ------------------------------------------------------------------------

    def check_canned(self) -> None:
        source = self.origins.canned
        if source is None:
            return
        for name, text in self.project.canned.items():
            if not re.match(CANNED_NAME_PATTERN, name):
                self.diagnostics.append(
                    Diagnostic.error(
                        source.at(("canned", name), key=True),
                        f"canned reply name '{name}' may use only a-z, 0-9, _ and - (at most 32 characters), "
                        f"because moderators type it: /canned {name.lower()}",
                    )
                )
            self._check_text_source(source.at(("canned", name)), f"canned reply '{name}'", text)

    def check_catalogs(self) -> None:
        for name, catalog in self.project.catalogs.items():
            source = self.origins.catalogs[name]
            first: dict[str, int] = {}
            for index, item in enumerate(catalog.items):
                if item.id in first:
                    line = source.at(("items", first[item.id], "id")).line
                    self.diagnostics.append(
                        Diagnostic.error(
                            source.at(("items", index, "id")), f"duplicate item id '{item.id}' (first defined at line {line})"
                        )
                    )
                else:
                    first[item.id] = index
                if item.valid_until is not None and item.valid_until < self.today:
                    self.diagnostics.append(
                        Diagnostic.warning(
                            source.at(("items", index, "valid_until")),
                            f"item '{item.id}' expired on {item.valid_until.isoformat()} and is no longer shown",
                        )
                    )
                for key in ("title", "summary", "eligibility", "how_to_apply", "contact"):
                    value = getattr(item, key)
                    if value and len(value) > TELEGRAM_TEXT_LIMIT:
                        self.diagnostics.append(
                            Diagnostic.error(
                                source.at(("items", index, key)),
                                f"item '{item.id}': {key} is {len(value)} characters; Telegram allows {TELEGRAM_TEXT_LIMIT}",
                            )
                        )

    # --- one flow -----------------------------------------------------------------------------

    def check_flow(self, qualified: str) -> None:
        flow = self.project.flow(qualified)
        if flow is None:
            raise ValueError(f"flow '{qualified}' is not in the project: nothing to check")
        broken = self.origins.broken_nodes.get(qualified, set())
        if flow.start not in flow.nodes and flow.start not in broken:
            self._broken_edge(qualified)
            self._error(qualified, ("start",), f"start node '{flow.start}' does not exist{suggest(flow.start, flow.nodes)}")
        for node_id in list(flow.nodes) + sorted(broken):
            if not re.match(ID_PATTERN, node_id):
                self._error(
                    qualified,
                    ("nodes", node_id),
                    f"node id '{node_id}' must use only lowercase letters a-z, digits and _",
                    key=True,
                )
        for node_id, node in flow.nodes.items():
            self.check_node(qualified, node_id, node)

    def check_node(self, flow: str, node_id: str, node: Node) -> None:
        base: PathKey = ("nodes", node_id)
        where = f"node '{node_id}': "
        for path, target in node.targets():
            self._check_target(flow, base + path, where, path[-1], target)
        for path, ref in node.flow_refs():
            qualified = qualify_flow(ref, flow.partition("/")[0])
            if self.project.flow(qualified) is None and qualified not in self.origins.unreadable_flows:
                self._broken_edge(flow)
                self._error(flow, base + path, f"{where}flow '{ref}' does not exist{self._suggest_flow(ref, flow)}")
        for path, text in node.templates():
            problem = expressions.check_template(text)
            if problem:
                self._error(flow, base + path, f"{where}{show(path)}: {problem}")
        for path, text in node.texts():
            if len(text) > TELEGRAM_TEXT_LIMIT:
                self._error(
                    flow,
                    base + path,
                    f"{where}{path[-1]} is {len(text)} characters; Telegram allows {TELEGRAM_TEXT_LIMIT} "
                    "(split it into several message nodes)",
                )
        for path, source in node.expressions():
            problem = expressions.check_expression(source)
            if problem:
                self._error(flow, base + path, f"{where}{show(path)}: {problem}")
        for name in node.saves():
            if name in RESERVED_VARIABLES:
                key = ("values", name) if isinstance(node, SetNode) else ("save",)
                self._error(
                    flow,
                    base + key,
                    f"{where}'{name}' is a built-in variable; choose another name",
                    key=isinstance(node, SetNode),
                )
            elif not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                key = ("values", name) if isinstance(node, SetNode) else ("save",)
                self._error(
                    flow,
                    base + key,
                    f"{where}variable name '{name}' must use only letters, digits and _",
                    key=isinstance(node, SetNode),
                )
        if isinstance(node, ChoiceNode):
            self._check_choice(flow, base, where, node)
        elif isinstance(node, InputNode):
            self._check_input(flow, base, where, node)
        elif isinstance(node, ResultsNode):
            if node.catalog not in self.project.catalogs and node.catalog not in self.origins.unreadable_catalogs:
                self._error(
                    flow,
                    base + ("catalog",),
                    f"{where}catalog '{node.catalog}' does not exist{suggest(node.catalog, self.project.catalogs)}",
                )
        for path, document in node.document_refs():
            self._check_document(flow, base + path, where, document)

    def _check_target(self, flow: str, path: PathKey, where: str, key: str | int, target: str) -> None:
        target_flow, node_id = split_target(target, flow)
        flow_model = self.project.flow(target_flow)
        if flow_model is None and target_flow in self.origins.unreadable_flows:
            self._broken_edge(flow)  # already reported where that file is
            return
        if flow_model is None:
            self._broken_edge(flow)
            ref = target.partition(":")[0]
            self._error(flow, path, f"{where}{key} '{target}': flow '{ref}' does not exist{self._suggest_flow(ref, flow)}")
            return
        if node_id in flow_model.nodes or node_id in self.origins.broken_nodes.get(target_flow, set()):
            return
        self._broken_edge(flow)
        candidates = list(flow_model.nodes)
        if target_flow == flow:
            self._error(flow, path, f"{where}{key} '{target}' does not exist{suggest(node_id, candidates)}")
        else:
            ref = target.partition(":")[0]
            self._error(
                flow, path, f"{where}{key} '{target}': flow '{ref}' has no node '{node_id}'{suggest(node_id, candidates)}"
            )

    def _suggest_flow(self, ref: str, flow: str) -> str:
        bot_id = flow.partition("/")[0]
        if "/" in ref:
            names = [f"{b}/{f}" for b, bot in self.project.bots.items() for f in bot.flows]
        else:
            names = list(self.project.bots[bot_id].flows)
        close = suggest(ref, names)
        if close:
            return close
        other_bot, _, other_flow = ref.rpartition("/")
        folder = other_bot or bot_id
        listed = ", ".join(sorted(names)) or "none"
        return f"; the flows of this bot are: {listed}; add flows/{folder}/{other_flow}.yaml to make it"

    def _check_choice(self, flow: str, base: PathKey, where: str, node: ChoiceNode) -> None:
        for index, option in enumerate(node.options):
            # values stay within Telegram's 64-byte button data, so any adapter may carry them
            size = len(str(option.value).encode("utf-8")) if option.value is not None else 0
            if size > CALLBACK_DATA_LIMIT:
                self._error(
                    flow,
                    base + ("options", index, "value"),
                    f"{where}options[{index}]: value is {size} bytes long; a value may be at most "
                    f"{CALLBACK_DATA_LIMIT} bytes: give the option a shorter 'value'",
                )
            if node.multiple and (option.next or option.flow):
                key = "next" if option.next else "flow"
                self._error(
                    flow,
                    base + ("options", index, key),
                    f"{where}options[{index}]: an option of a 'multiple' choice cannot have its own '{key}'; "
                    "use the node's 'next'",
                )
            if option.next and option.flow:
                self._error(
                    flow, base + ("options", index, "flow"), f"{where}options[{index}]: give either 'next' or 'flow', not both"
                )

    def _check_input(self, flow: str, base: PathKey, where: str, node: InputNode) -> None:
        for key in ("min", "max"):
            value = getattr(node, key)
            if value is None:
                continue
            path = base + (key,)
            if node.kind == "number" and (isinstance(value, (str, dt.date)) or isinstance(value, bool)):
                self._error(flow, path, f"{where}'{key}' of a number input must be a number")
            elif node.kind == "date":
                try:
                    resolve_day(value, self.today)
                except ValueError as err:
                    self._error(flow, path, f"{where}'{key}': {err}")
                if isinstance(value, (int, float)):
                    self._error(flow, path, f"{where}'{key}' of a date input must be a date, today, today+N or today-N")
            elif node.kind not in ("number", "date"):
                self._error(flow, path, f"{where}'{key}' applies to number and date inputs; use 'max_length' for text")
        if node.max_length is not None and node.kind != "text":
            self._error(flow, base + ("max_length",), f"{where}'max_length' applies to text inputs only")
        if node.pattern is not None:
            try:
                re.compile(node.pattern)
            except re.error as err:
                at = f" at character {err.pos + 1}" if err.pos is not None else ""
                self._error(
                    flow, base + ("pattern",), f"{where}pattern '{node.pattern}' is not a valid regular expression: {err.msg}{at}"
                )

    def _check_document(self, flow: str, path: PathKey, where: str, document: str) -> None:
        knowledge = (self.project.root / "knowledge").resolve()
        target = (knowledge / document).resolve()
        if not target.is_relative_to(knowledge):
            self._error(flow, path, f"{where}document '{document}' must be a file under knowledge/")
        elif not target.is_file():
            existing = [str(p.relative_to(knowledge)) for p in knowledge.rglob("*") if p.is_file()] if knowledge.is_dir() else []
            self._error(flow, path, f"{where}document '{document}' does not exist in knowledge/{suggest(document, existing)}")

    # --- the graph ------------------------------------------------------------------------

    def check_reachability(self, graph: FlowGraph) -> None:
        entered = graph.entered_from_elsewhere()
        for flow_id, flow in graph.flows():
            if self.origins.broken_nodes.get(flow_id) or flow_id in self.incomplete:
                continue  # a node that failed to load or a reference to nothing hides edges
            roots = [(flow_id, flow.start)] + [key for key in entered if key[0] == flow_id]
            seen = graph.reach(roots, within=flow_id)
            for node_id in flow.nodes:
                if (flow_id, node_id) not in seen:
                    self._warning(flow_id, ("nodes", node_id), f"node '{node_id}' can never be reached", key=True)

    def check_variables(self, graph: FlowGraph, bot_id: str) -> None:
        """Warn about variables read where no path from the bot's start can have set them."""
        bot = self.project.bots[bot_id]
        start_flow = qualify_flow(bot.config.start, bot_id)
        flow = self.project.flow(start_flow)
        if flow is None:
            return
        start = (start_flow, flow.start)
        if any(self.origins.broken_nodes.get(k[0]) or k[0] in self.incomplete for k in graph.reach([start])):
            return  # a node that failed to load, or a reference to nothing, hides what is set
        known, reachable = graph.may_be_set(start)
        for key in sorted(reachable):
            node = self.project.node(*key)
            if node is None:
                continue
            for path, name in reads(node):
                if name not in BUILTIN_NAMES and not known.has(key, name):
                    self._warning(
                        key[0],
                        ("nodes", key[1]) + path,
                        f"node '{key[1]}': variable '{name}' is read before anything can have set it",
                    )

    # --- tests ---------------------------------------------------------------------------

    def check_tests(self) -> None:
        for bot_id, entries in self.origins.tests.items():
            locales = self.project.bots[bot_id].config.locales
            for source, index, test in entries:
                if test.lang is not None and test.lang not in locales:
                    self.diagnostics.append(
                        Diagnostic.error(
                            source.at((index, "lang")),
                            f"test '{test.name}': lang '{test.lang}' is not offered by the bot ({', '.join(locales)})",
                        )
                    )
