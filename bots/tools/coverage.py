"""`bots test --coverage`: which nodes and buttons of each flow the conversation tests reach.

While the tests run, a recording engine notes every node it enters (in passing too: messages,
branches, sets), as the `node` metrics of each step say, and the test harness notes every
button pressed, or whose label was typed, on the question waiting (`bots.console.session.Conversation(on_button=...)`). Without `--coverage`
neither is there, so ordinary runs are not slowed.

The buttons counted are those a flow file names: every option of a `choice` (and its Done
when `multiple`), and a `results` node's done button and its More button (only where the
catalog holds more items than `limit`, since otherwise More never shows). The buttons of
catalog items depend on the catalog, not on the flow, and are not counted.

A report is a block per flow: the bot's own flows, then the shared flows they use.

    mara/main: nodes 18/20 (90%), buttons 30/34 (88%)
      not reached: node thanks (flows/mara/main.yaml:41)
      not reached: button "Talk to a person" of node menu (flows/mara/main.yaml:12)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bots.engine import Engine, Project
from bots.engine.engine import StepResult
from bots.engine.events import Event
from bots.engine.i18n import Translator
from bots.engine.nodes import ChoiceNode, ResultsNode
from bots.engine.nodes.base import Node
from bots.engine.outputs import Metric
from bots.engine.runtime import StepContext
from bots.engine.state import ConversationState
from bots.engine.texts import BUILTIN
from bots.loader.diagnostics import Position
from bots.loader.flowgraph import FlowGraph
from bots.loader.load import YAML_SUFFIXES
from bots.loader.yamlsource import PathKey, SourceMap, YamlError, read_yaml

NodeKey = tuple[str, str]  # (qualified flow, node id)
ButtonKey = tuple[str, str, str]  # (qualified flow, node id, button code)


class Coverage:
    """What the conversation tests reached: collected while they run."""

    def __init__(self) -> None:
        self.nodes: set[NodeKey] = set()
        self.buttons: set[ButtonKey] = set()

    def engine(self, project: Project, bot_id: str, translator: Translator) -> Engine:
        """An engine for `bot_id` that notes every node it enters."""
        return _RecordingEngine(self, project, bot_id, translator)

    def pressed(self, flow: str, node: str, code: str) -> None:
        """A button (by its code, e.g. `o2`) of the question waiting at `flow:node` was pressed."""
        self.buttons.add((flow, node, code))


class _RecordingEngine(Engine):
    """Notes the nodes each step entered, from the `node` metrics (`flow:node`) it reports."""

    def __init__(self, coverage: Coverage, project: Project, bot_id: str, translator: Translator) -> None:
        super().__init__(project, bot_id, translator)
        self._coverage = coverage

    def step(self, state: ConversationState | None, event: Event, context: StepContext) -> StepResult:
        result = super().step(state, event, context)
        for output in result.outputs:
            if isinstance(output, Metric) and output.name == "node":
                flow, _, node = output.key.rpartition(":")
                self._coverage.nodes.add((flow, node))
        return result


# --- what there is to reach ------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    code: str  # as the node makes it: `o0`, `d`, `m`
    label: str
    path: PathKey = ()  # where in the node it is written (the node itself if it is not)
    key: bool = True  # point at the key at `path` rather than at its value


def buttons_of(node: Node, project: Project) -> list[Button]:
    """The buttons of a node that a flow file names (see the module's docstring)."""
    if isinstance(node, ChoiceNode):
        found = [Button(f"o{index}", option.label, ("options", index), key=False) for index, option in enumerate(node.options)]
        if node.multiple:
            found.append(Button("d", BUILTIN["button_done"], ("multiple",)))
        return found
    if isinstance(node, ResultsNode):
        found = [Button("d", node.done, ("done",)) if node.done else Button("d", BUILTIN["button_continue"])]
        catalog = project.catalogs.get(node.catalog)
        if catalog is not None and len(catalog.items) > node.limit:
            found.append(Button("m", BUILTIN["button_more"], ("limit",)))
        return found
    return []


@dataclass
class FlowCoverage:
    flow: str  # qualified flow id
    nodes: int = 0
    buttons: int = 0
    missed_nodes: list[tuple[str, Position]] = field(default_factory=list)
    missed_buttons: list[tuple[str, str, Position]] = field(default_factory=list)  # (label, node, where)

    @property
    def reached_nodes(self) -> int:
        return self.nodes - len(self.missed_nodes)

    @property
    def reached_buttons(self) -> int:
        return self.buttons - len(self.missed_buttons)


def percent(part: int, whole: int) -> str:
    """Rounded down, so that 100% means all of them."""
    return f"{part * 100 // whole}%" if whole else "-"


def flows_in_scope(project: Project, bots: Iterable[str]) -> list[str]:
    """The flows of `bots`, then the other flows (shared ones) that they can lead to."""
    own: list[str] = []
    roots: list[NodeKey] = []
    for bot_id in bots:
        for flow_id, flow in project.bots[bot_id].flows.items():
            own.append(f"{bot_id}/{flow_id}")
            roots += [(f"{bot_id}/{flow_id}", node_id) for node_id in flow.nodes]
    others = sorted({flow for flow, _ in FlowGraph(project).reach(roots)} - set(own))
    return own + [flow for flow in others if project.flow(flow) is not None]


def flow_sources(project: Project, display_base: Path | None = None) -> dict[str, SourceMap]:
    """Where each flow was read from (positions of its keys), by qualified flow id."""
    base = display_base or Path.cwd()
    found: dict[str, SourceMap] = {}
    for bot_id in project.bots:
        folder = project.root / "flows" / bot_id
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.stem != "bot" and p.is_file()):
            try:
                shown = os.path.relpath(path, base)
            except ValueError:  # another drive on Windows
                shown = str(path)
            try:
                document, _ = read_yaml(path, shown)
            except YamlError:
                continue  # the project loaded, so this cannot happen short of a change under our feet
            data = document.data if isinstance(document.data, dict) else {}
            found.setdefault(f"{bot_id}/{data.get('id') or path.stem}", document.source)
    return found


def measure(project: Project, coverage: Coverage, flows: Iterable[str], sources: dict[str, SourceMap]) -> list[FlowCoverage]:
    """Per flow: how many nodes and buttons there are, and which ones the tests missed."""
    results = []
    for flow_id in flows:
        flow = project.flow(flow_id)
        if flow is None:
            continue
        source = sources.get(flow_id, SourceMap(flow_id))
        result = FlowCoverage(flow_id)
        for node_id, node in flow.nodes.items():
            base: PathKey = ("nodes", node_id)
            result.nodes += 1
            if (flow_id, node_id) not in coverage.nodes:
                result.missed_nodes.append((node_id, source.at(base, key=True)))
            for button in buttons_of(node, project):
                result.buttons += 1
                if (flow_id, node_id, button.code) not in coverage.buttons:
                    where = source.at(base + button.path, key=button.key)
                    result.missed_buttons.append((button.label, node_id, where))
        results.append(result)
    return results


def describe(results: Iterable[FlowCoverage]) -> str:
    """The report: a block per flow, then the totals."""
    results = list(results)
    lines: list[str] = []
    for result in results:
        lines.append(f"{result.flow}: {_figures([result])}")
        for node_id, where in result.missed_nodes:
            lines.append(f"  not reached: node {node_id} ({where.file}:{where.line})")
        for label, node_id, where in result.missed_buttons:
            shown = " ".join(label.split()).replace('"', "'")
            lines.append(f'  not reached: button "{shown}" of node {node_id} ({where.file}:{where.line})')
    lines.append(f"coverage: {_figures(results)}")
    return "\n".join(lines)


def _figures(results: list[FlowCoverage]) -> str:
    """`nodes 6/8 (75%), buttons 7/9 (77%)` for the flows of `results` together."""
    nodes, reached_nodes = sum(r.nodes for r in results), sum(r.reached_nodes for r in results)
    buttons, reached_buttons = sum(r.buttons for r in results), sum(r.reached_buttons for r in results)
    text = f"nodes {reached_nodes}/{nodes} ({percent(reached_nodes, nodes)})"
    if buttons:
        return f"{text}, buttons {reached_buttons}/{buttons} ({percent(reached_buttons, buttons)})"
    return f"{text}, no buttons"


def report(project: Project, coverage: Coverage, bots: Iterable[str], display_base: Path | None = None) -> str:
    """The coverage report for the tests of `bots` that ran with `coverage`."""
    results = measure(project, coverage, flows_in_scope(project, bots), flow_sources(project, display_base))
    return describe(results)
