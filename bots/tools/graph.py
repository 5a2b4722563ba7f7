"""`bots graph BOT[/FLOW]`: a flow as a picture, in Mermaid or Graphviz (DOT), or drawn by Graphviz.

What is drawn (boxes, arrows and their labels) is `bots.tools.drawing`'s; this module writes
it in each syntax. Subflow calls are dashed; handoffs, ends and questions have shapes of
their own; nodes that nothing can reach are greyed and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from bots.tools.drawing import ENTRY, FLOW_REF, NODE_REF, Box, Drawing, GraphError, draw

# `bots graph` (bots/cli/tools.py) draws and writes through this module alone
__all__ = ["FORMATS", "TEXT_FORMATS", "GraphError", "default_file", "draw", "draw_image", "render", "to_dot", "to_mermaid"]

TEXT_FORMATS = ("mermaid", "dot")
FORMATS = (*TEXT_FORMATS, "svg", "png")  # the pictures are Graphviz's


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
            attributes += ['style="filled,dashed"', 'fontcolor="#777777"']
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
