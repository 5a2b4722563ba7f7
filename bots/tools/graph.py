"""`bots graph BOT[/FLOW]`: a flow as a picture, in Mermaid or Graphviz (DOT), or drawn by Graphviz.

The drawing is made from what every node type says about itself (`targets()` for where it
can lead, `flow_refs()` for the flows it runs, `texts()` for what it says), so a node type
that gains a key that leads somewhere is drawn without changes here. Edges are labelled by
the button or the condition that takes them (the `label` or `when` beside the key), or by the
key itself (`else`, `empty`, `accept`...). `next` is labelled with the buttons that have no
target of their own, or `then` after a subflow call, and is otherwise left unlabelled. Subflow calls are dashed; handoffs, ends and questions have
shapes of their own; nodes that nothing can reach are greyed and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.engine.expressions import to_plain
from bots.engine.nodes.base import Node
from bots.engine.project import Project, qualify_flow, split_target
from bots.loader.diagnostics import suggest
from bots.loader.flowgraph import FlowGraph
from bots.loader.yamlsource import PathKey

TEXT_FORMATS = ("mermaid", "dot")
IMAGE_FORMATS = ("svg", "png")
FORMATS = TEXT_FORMATS + IMAGE_FORMATS
LABEL_CHARS = 40  # of a node's text shown in its box
EDGE_CHARS = 50  # of a button's label or a condition shown on an edge

# kinds of drawn nodes beyond the node types
ENTRY = "entry"  # where a flow starts
FLOW_REF = "flowref"  # a flow that is called but not drawn
NODE_REF = "noderef"  # a node of a flow that is not drawn (the target of a jump)


class GraphError(Exception):
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
        raise GraphError(f"no bot '{bot_id}'{suggest(bot_id, names)}; the bots and flow folders are: {', '.join(names) or 'none'}")
    if not flow_id:
        if not bot.flows:
            raise GraphError(f"{bot_id} has no flows to draw")
        return bot_id, [f"{bot_id}/{f}" for f in bot.flows]
    if flow_id not in bot.flows:
        flows = list(bot.flows)
        raise GraphError(f"{bot_id} has no flow '{flow_id}'{suggest(flow_id, flows)}; its flows are: {', '.join(flows) or 'none'}")
    return bot_id, [f"{bot_id}/{flow_id}"]


def unreachable_nodes(project: Project, graph: FlowGraph, flow_id: str, entered: set[tuple[str, str]]) -> set[str]:
    """Nodes of `flow_id` that neither its start nor the nodes other flows lead to (`entered`,
    from `graph.entered_from_elsewhere()`) can reach: what `bots check` says "can never be reached"."""
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
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            label = getattr(item, "label", None)
            if isinstance(label, str) and (name, index) not in taken:
                labels.append(label)
    return labels


def _shorten(text: str, limit: int = LABEL_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _show_flow(flow_id: str, bot_id: str) -> str:
    """A flow as organisers write it from this bot: `main`, or `shared/human`."""
    return flow_id.partition("/")[2] if flow_id.partition("/")[0] == bot_id else flow_id


def draw(project: Project, target: str) -> Drawing:
    """The drawing of `bot` (every flow) or `bot/flow`."""
    bot_id, flows = select(project, target)
    graph = FlowGraph(project)
    entered = graph.entered_from_elsewhere()
    ids = _Ids()
    drawing = Drawing(title=target.strip().strip("/"))
    drawn = set(flows)
    outside: dict[str, Box] = {}

    def entry_of(flow_id: str) -> str:
        return ids(flow_id, "")  # node ids are never empty: no clash

    def refer(kind: str, name: tuple[str, ...], text: str) -> str:
        box_id = ids("ref", *name)
        if box_id not in outside:
            outside[box_id] = Box(box_id, kind, [text])
            drawing.outside.append(outside[box_id])
        return box_id

    for flow_id in flows:
        flow = project.flow(flow_id)
        assert flow is not None
        cluster = Cluster(ids("flow", flow_id), flow_id, _show_flow(flow_id, bot_id))
        drawing.clusters.append(cluster)
        cluster.boxes.append(Box(entry_of(flow_id), ENTRY, ["start"]))
        drawing.arrows.append(Arrow(entry_of(flow_id), ids(flow_id, flow.start)))
        lost = unreachable_nodes(project, graph, flow_id, entered)
        for node_id, node in flow.nodes.items():
            lines = [node_id, node.type]
            said = node.texts()
            if said:
                lines.append(_shorten(to_plain(said[0][1])))
            if node_id in lost:
                lines.append("(unreachable)")
            cluster.boxes.append(Box(ids(flow_id, node_id), node.type, lines, unreachable=node_id in lost))
            source = ids(flow_id, node_id)
            targets = node.targets()
            calls = node.flow_refs()
            taken = {path[:-1] for path, _ in [*targets, *calls] if len(path) > 1}
            for path, reference in targets:
                label = _label_of(node, path)
                if path == ("next",):
                    label = " / ".join(_falling_through(node, taken)) or ("then" if calls else "")
                label = _shorten(label, EDGE_CHARS)
                to_flow, to_node = split_target(reference, flow_id)
                if to_flow in drawn:
                    destination = ids(to_flow, to_node)
                else:
                    shown = f"{_show_flow(to_flow, bot_id)}:{to_node}"
                    destination = refer(NODE_REF, (to_flow, to_node), shown)
                drawing.arrows.append(Arrow(source, destination, label))
            for path, reference in calls:
                callee = qualify_flow(reference, flow_id.partition("/")[0])
                if callee in drawn:
                    destination = entry_of(callee)
                else:
                    destination = refer(FLOW_REF, (callee,), f"flow {_show_flow(callee, bot_id)}")
                drawing.arrows.append(Arrow(source, destination, _shorten(_label_of(node, path), EDGE_CHARS), call=True))
    return drawing


# --- Mermaid -----------------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "message": ('["', '"]'),
    "choice": ('{{"', '"}}'),
    "input": ('[/"', '"/]'),
    "branch": ('{"', '"}'),
    "set": ('[("', '")]'),
    "results": ('[/"', '"\\]'),
    "flow": ('[["', '"]]'),
    "handoff": ('>"', '"]'),
    "end": ('(["', '"])'),
    ENTRY: ('(("', '"))'),
    FLOW_REF: ('[["', '"]]'),
    NODE_REF: ('("', '")'),
}
_DEFAULT_SHAPE = ('("', '")')

# fill, stroke: one colour per kind of node, the same in Mermaid and DOT
_COLOURS = {
    "message": ("#e8f0fe", "#4a6fa5"),
    "choice": ("#fff4cc", "#b08900"),
    "input": ("#e6f4ea", "#3c8a4f"),
    "branch": ("#fde8d7", "#c0652a"),
    "set": ("#f1e8fd", "#7a4fb0"),
    "results": ("#e0f4f7", "#2a8a99"),
    "flow": ("#ececec", "#555555"),
    "handoff": ("#fde2e4", "#b0304a"),
    "end": ("#d9d9d9", "#333333"),
    ENTRY: ("#333333", "#333333"),
    FLOW_REF: ("#ffffff", "#777777"),
    NODE_REF: ("#ffffff", "#777777"),
}
_DEFAULT_COLOUR = ("#ffffff", "#555555")
_UNREACHABLE = ("#f4f4f4", "#999999")


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what would end or change it."""
    text = " ".join(text.split())
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("&", "#amp;"), ("`", "#96;")):
        text = text.replace(char, code)
    return text


def to_mermaid(drawing: Drawing) -> str:
    """Mermaid flowchart text (renders on GitHub, GitLab and in many editors)."""
    out = ["flowchart TD", f"  %% bots graph {_mermaid_text(drawing.title)}"]

    def box(b: Box, indent: str) -> str:
        opening, closing = _MERMAID_SHAPES.get(b.kind, _DEFAULT_SHAPE)
        label = "<br/>".join(_mermaid_text(line) for line in b.lines)
        return f"{indent}{b.id}{opening}{label}{closing}"

    for cluster in drawing.clusters:
        out.append(f'  subgraph {cluster.id} ["{_mermaid_text(cluster.title)}"]')
        out += [box(b, "    ") for b in cluster.boxes]
        out.append("  end")
    out += [box(b, "  ") for b in drawing.outside]
    for arrow in drawing.arrows:
        line = "-.->" if arrow.call else "-->"
        label = f'|"{_mermaid_text(arrow.label)}"|' if arrow.label else ""
        out.append(f"  {arrow.source} {line}{label} {arrow.target}")
    kinds: dict[str, list[str]] = {}
    for b in drawing.boxes():
        kinds.setdefault(b.kind, []).append(b.id)
    for kind in sorted(kinds):
        fill, stroke = _COLOURS.get(kind, _DEFAULT_COLOUR)
        colour = ",color:#ffffff" if kind == ENTRY else ""
        dashed = ",stroke-dasharray:4 3" if kind in (FLOW_REF, NODE_REF) else ""
        out.append(f"  classDef {_class_name(kind)} fill:{fill},stroke:{stroke}{colour}{dashed}")
        out.append(f"  class {','.join(kinds[kind])} {_class_name(kind)}")
    lost = [b.id for b in drawing.boxes() if b.unreachable]
    if lost:
        out.append(f"  classDef unreachable fill:{_UNREACHABLE[0]},stroke:{_UNREACHABLE[1]},color:#777777,stroke-dasharray:4 3")
        out.append(f"  class {','.join(lost)} unreachable")
    return "\n".join(out) + "\n"


def _class_name(kind: str) -> str:
    """A kind of node as a Mermaid class name (prefixed: `end` is a keyword there)."""
    return "t_" + re.sub(r"[^A-Za-z0-9_]", "_", kind)


# --- Graphviz ----------------------------------------------------------------------------------

_DOT_SHAPES = {
    "message": "box",
    "choice": "hexagon",
    "input": "parallelogram",
    "branch": "diamond",
    "set": "cylinder",
    "results": "folder",
    "flow": "component",
    "handoff": "cds",
    "end": "octagon",
    ENTRY: "circle",
    FLOW_REF: "component",
    NODE_REF: "box",
}


def _dot_text(text: str) -> str:
    """Text inside a double-quoted DOT string."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def _dot_colour(value: str) -> str:
    return f'"{value}"'


def to_dot(drawing: Drawing) -> str:
    """Graphviz DOT text (`dot -Tsvg` draws it)."""
    out = [
        f'digraph "{_dot_text(drawing.title)}" {{',
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=11];',
        '  node [fontname="Helvetica", fontsize=10, style=filled];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]

    def box(b: Box, indent: str) -> str:
        label = "\\n".join(_dot_text(line) for line in b.lines)
        fill, stroke = _UNREACHABLE if b.unreachable else _COLOURS.get(b.kind, _DEFAULT_COLOUR)
        attributes = [
            f"shape={_DOT_SHAPES.get(b.kind, 'box')}",
            f'label="{label}"',
            f"fillcolor={_dot_colour(fill)}",
            f"color={_dot_colour(stroke)}",
        ]
        if b.kind == ENTRY:
            attributes += ["fontcolor=white", "fontsize=8", "width=0.4", "fixedsize=true"]
        if b.unreachable:
            attributes += ['style="filled,dashed"', "fontcolor=\"#777777\""]
        elif b.kind in (FLOW_REF, NODE_REF):
            attributes.append('style="filled,dashed"')
        elif b.kind not in _DOT_SHAPES:
            attributes.append('style="filled,rounded"')
        return f'{indent}"{b.id}" [{", ".join(attributes)}];'

    for number, cluster in enumerate(drawing.clusters):
        out.append(f"  subgraph cluster_{number} {{")
        out.append(f'    label="{_dot_text(cluster.title)}";')
        out.append('    style="rounded"; color="#999999";')
        out += [box(b, "    ") for b in cluster.boxes]
        out.append("  }")
    out += [box(b, "  ") for b in drawing.outside]
    for arrow in drawing.arrows:
        attributes = []
        if arrow.label:
            attributes.append(f'label="{_dot_text(arrow.label)}"')
        if arrow.call:
            attributes.append("style=dashed")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        out.append(f'  "{arrow.source}" -> "{arrow.target}"{suffix};')
    out.append("}")
    return "\n".join(out) + "\n"


# --- pictures ------------------------------------------------------------------------------------


def render(drawing: Drawing, form: str) -> str:
    """The drawing as text in a text format (`mermaid` or `dot`)."""
    if form == "mermaid":
        return to_mermaid(drawing)
    if form == "dot":
        return to_dot(drawing)
    raise ValueError(f"not a text format: {form}")


def default_file(target: str, form: str) -> str:
    """`mara.svg` for a bot, `mara-main.svg` for one of its flows."""
    return target.strip().strip("/").replace("/", "-") + f".{form}"


def draw_image(dot_text: str, form: str, path: Path) -> None:
    """Run Graphviz's `dot` to draw an svg or png; GraphError (one line) where it cannot."""
    program = shutil.which("dot")
    if program is None:
        raise GraphError(
            f"drawing {form} needs Graphviz's 'dot' program, which is not installed: "
            "install Graphviz (e.g. 'apt install graphviz') or use --format mermaid or --format dot"
        )
    try:
        done = subprocess.run(
            [program, f"-T{form}", "-o", str(path)],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise GraphError(f"Graphviz could not draw the graph: {err}") from None
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphError(f"Graphviz could not draw the graph: {problem[0] if problem else f'exit status {done.returncode}'}")
