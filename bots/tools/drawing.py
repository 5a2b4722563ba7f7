"""What `bots graph` draws: a project's flows as boxes and arrows, before any drawing syntax.

The drawing is made from what every node type says about itself (`targets()` for where it
can lead, `flow_refs()` for the flows it runs, `texts()` for what it says), so a node type
that gains a key that leads somewhere is drawn without changes here. Edges are labelled by
the button or the condition that takes them (the `label` or `when` beside the key), or by the
key itself (`else`, `empty`, `accept`...). `next` is labelled with the buttons that have no
target of their own, or `then` after a subflow call, and is otherwise left unlabelled.
Nodes that nothing can reach are marked so. `bots.tools.graph` writes it as Mermaid or DOT.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bots.engine.expressions import to_plain
from bots.engine.nodes.base import Node
from bots.engine.project import Project, qualify_flow, split_target
from bots.errors import BotsError
from bots.loader.diagnostics import suggest
from bots.loader.flowgraph import FlowGraph
from bots.loader.yamlsource import PathKey

LABEL_CHARS = 40  # of a node's text shown in its box
EDGE_CHARS = 50  # of a button's label or a condition shown on an edge

# kinds of drawn nodes beyond the node types
ENTRY = "entry"  # where a flow starts
FLOW_REF = "flowref"  # a flow that is called but not drawn
NODE_REF = "noderef"  # a node of a flow that is not drawn (the target of a jump)


class GraphError(BotsError, status=2):
    """What the person asked for cannot be drawn; the message says why, in one line."""


@dataclass
class Box:
    id: str  # an identifier that is safe in Mermaid and DOT
    kind: str  # a node type, or ENTRY / FLOW_REF / NODE_REF
    lines: list[str]
    unreachable: bool = False


@dataclass
class Arrow:
    source: str
    target: str
    label: str = ""
    call: bool = False  # runs another flow (drawn dashed)


@dataclass
class Cluster:
    id: str
    flow: str  # qualified flow id
    title: str
    boxes: list[Box] = field(default_factory=list)


@dataclass
class Drawing:
    title: str
    clusters: list[Cluster] = field(default_factory=list)
    outside: list[Box] = field(default_factory=list)  # flows and nodes referred to, not drawn
    arrows: list[Arrow] = field(default_factory=list)

    def boxes(self) -> Iterable[Box]:
        for cluster in self.clusters:
            yield from cluster.boxes
        yield from self.outside


# --- what to draw --------------------------------------------------------------------------


def select(project: Project, target: str) -> tuple[str, list[str]]:
    """`bot` or `bot/flow` -> (bot id, qualified flows to draw); GraphError if there is none."""
    bot_id, _, flow_id = target.strip().strip("/").partition("/")
    bot = project.bots.get(bot_id)
    if bot is None:
        names = sorted(project.bots)
        raise GraphError(
            f"no bot '{bot_id}'{suggest(bot_id, names)}; the bots and flow folders are: {', '.join(names) or 'none'}"
        )
    if not flow_id:
        if not bot.flows:
            raise GraphError(f"{bot_id} has no flows to draw")
        return bot_id, [f"{bot_id}/{f}" for f in bot.flows]
    if flow_id not in bot.flows:
        flows = list(bot.flows)
        raise GraphError(
            f"{bot_id} has no flow '{flow_id}'{suggest(flow_id, flows)}; its flows are: {', '.join(flows) or 'none'}"
        )
    return bot_id, [f"{bot_id}/{flow_id}"]


def unreachable_nodes(project: Project, graph: FlowGraph, flow_id: str, entered: set[tuple[str, str]]) -> set[str]:
    """Nodes of `flow_id` that neither its start nor the nodes other flows lead to (`entered`,
    from `graph.entered_from_elsewhere()`) can reach: what `bots check` says "can never be
    reached" (`ProjectChecker.check_reachability`, which takes the same roots)."""
    flow = project.flow(flow_id)
    if flow is None:
        return set()
    roots = [(flow_id, flow.start)] + [key for key in entered if key[0] == flow_id]
    seen = graph.reach(roots, within=flow_id)
    return {node_id for node_id in flow.nodes if (flow_id, node_id) not in seen}


class _Ids:
    """Stable identifiers made from names: letters, digits and _, never a Mermaid keyword."""

    def __init__(self) -> None:
        self.by_name: dict[tuple[str, ...], str] = {}
        self.used: set[str] = set()

    def __call__(self, *name: str) -> str:
        if name not in self.by_name:
            base = "n_" + "__".join(re.sub(r"[^A-Za-z0-9_]", "_", part) for part in name)
            candidate, number = base, 2
            while candidate in self.used:
                candidate, number = f"{base}_{number}", number + 1
            self.used.add(candidate)
            self.by_name[name] = candidate
        return self.by_name[name]


def _item_at(node: Node, path: PathKey) -> Any:
    """The value at `path` inside the node (`("options", 2)` -> the third option)."""
    current: Any = node
    for part in path:
        try:
            current = current[part] if isinstance(part, int) else getattr(current, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    return current


def _label_of(node: Node, path: PathKey) -> str:
    """What takes this edge: the button (`label`) or condition (`when`) beside the key, or the key."""
    if len(path) > 1:
        item = _item_at(node, path[:-1])
        for attribute in ("label", "when"):
            value = getattr(item, attribute, None)
            if isinstance(value, str) and value:
                return value
    key = str(path[-1])
    return "" if key in ("next", "flow") else key


def _falling_through(node: Node, taken: set[PathKey]) -> list[str]:
    """Labels of buttons with no target of their own: they go on at the node's `next`."""
    if getattr(node, "multiple", False):
        return []
    labels = []
    for name in type(node).model_fields:
        items = getattr(node, name, None)
        for index, item in enumerate(items if isinstance(items, list) else []):
            label = getattr(item, "label", None)
            if isinstance(label, str) and (name, index) not in taken:
                labels.append(label)
    return labels


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _show_flow(flow_id: str, bot_id: str) -> str:
    """A flow as organisers write it from this bot: `main`, or `shared/human`."""
    owner, _, name = flow_id.partition("/")
    return name if owner == bot_id else flow_id


class _Drawer:
    """Builds one drawing: boxes get stable ids, and what is not drawn is referred to once."""

    def __init__(self, project: Project, target: str) -> None:
        self.project = project
        self.bot_id, self.flows = select(project, target)
        self.drawing = Drawing(title=target.strip().strip("/"))
        self.ids = _Ids()
        self.referred: set[str] = set()

    def entry_of(self, flow_id: str) -> str:
        return self.ids(flow_id, "")  # node ids are never empty: no clash

    def refer(self, kind: str, name: tuple[str, ...], text: str) -> str:
        """The box of a flow or node that is not drawn, added the first time it is named."""
        box_id = self.ids("ref", *name)
        if box_id not in self.referred:
            self.referred.add(box_id)
            self.drawing.outside.append(Box(box_id, kind, [text]))
        return box_id

    def draw(self) -> Drawing:
        graph = FlowGraph(self.project)
        entered = graph.entered_from_elsewhere()
        for flow_id in self.flows:
            flow = self.project.flow(flow_id)
            if flow is None:
                raise ValueError(f"flow '{flow_id}' is not in the project: nothing to draw for it")
            cluster = Cluster(self.ids("flow", flow_id), flow_id, _show_flow(flow_id, self.bot_id))
            self.drawing.clusters.append(cluster)
            cluster.boxes.append(Box(self.entry_of(flow_id), ENTRY, ["start"]))
            self.drawing.arrows.append(Arrow(self.entry_of(flow_id), self.ids(flow_id, flow.start)))
            lost = unreachable_nodes(self.project, graph, flow_id, entered)
            for node_id, node in flow.nodes.items():
                cluster.boxes.append(self.box(flow_id, node_id, node, node_id in lost))
                self.arrows_from(flow_id, node_id, node)
        return self.drawing

    def box(self, flow_id: str, node_id: str, node: Node, unreachable: bool) -> Box:
        lines = [node_id, node.type]
        said = node.texts()
        if said:
            lines.append(shorten(to_plain(said[0][1])))
        if unreachable:
            lines.append("(unreachable)")
        return Box(self.ids(flow_id, node_id), node.type, lines, unreachable=unreachable)

    def arrows_from(self, flow_id: str, node_id: str, node: Node) -> None:
        source = self.ids(flow_id, node_id)
        targets = node.targets()
        calls = node.flow_refs()
        taken = {path[:-1] for path, _ in [*targets, *calls] if len(path) > 1}
        for path, reference in targets:
            label = _label_of(node, path)
            if path == ("next",):
                label = " / ".join(_falling_through(node, taken)) or ("then" if calls else "")
            to_flow, to_node = split_target(reference, flow_id)
            if to_flow in self.flows:
                destination = self.ids(to_flow, to_node)
            else:
                destination = self.refer(NODE_REF, (to_flow, to_node), f"{_show_flow(to_flow, self.bot_id)}:{to_node}")
            self.drawing.arrows.append(Arrow(source, destination, shorten(label, EDGE_CHARS)))
        for path, reference in calls:
            callee = qualify_flow(reference, flow_id.partition("/")[0])
            if callee in self.flows:
                destination = self.entry_of(callee)
            else:
                destination = self.refer(FLOW_REF, (callee,), f"flow {_show_flow(callee, self.bot_id)}")
            self.drawing.arrows.append(Arrow(source, destination, shorten(_label_of(node, path), EDGE_CHARS), call=True))


def draw(project: Project, target: str) -> Drawing:
    """The drawing of `bot` (every flow) or `bot/flow`."""
    return _Drawer(project, target).draw()
