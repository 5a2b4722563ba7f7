"""A flow's funnel as a horizontal bar chart in SVG, written by hand (no dependency).

One row per node of the main path (the way most people went, see `funnels`): the node's id,
a bar as long as its entries (scaled to the largest), and the figure with the node's
drop-off (the share of those who entered it and went no further). A hidden figure ("fewer
than 5") gets no bar, since its length would tell the number. The chart has a `<title>` and a `<desc>`
and every row its own `<title>`, so that screen readers can read it; all of its text is real
text, not paths.
"""

from __future__ import annotations

import re
from html import escape

from bots.report.model import Funnel, Step

WIDTH = 720
ROW = 26
BAR = 16
TOP = 34
FONT = 12
CHAR = 7.2  # a generous width of one character at FONT, for laying out labels
COLOUR = "#3b6ea8"


def drop_text(step: Step) -> str:
    """`37% drop-off`; `fewer than 5 went no further` when that count is hidden; else ''."""
    if step.drop_off is not None:
        return f"{step.drop_off:.0f}% drop-off"
    if step.stopped is not None and step.stopped.fewer_than and step.entries.shown:
        return f"{step.stopped.text()} went no further"
    return ""


def funnel_svg(funnel: Funnel, bot_name: str, ident: str = "funnel") -> str:
    """The chart of `funnel`; `ident` makes its element ids unique within a page."""
    ident = re.sub(r"[^A-Za-z0-9_-]", "-", ident)
    steps = [step for step in funnel.steps if step.main]
    label_width = min(max((len(step.node) for step in steps), default=4) * CHAR + 16, WIDTH * 0.35)
    value_width = 220.0
    bar_space = WIDTH - label_width - value_width
    largest = max((step.entries.exact or 0 for step in steps), default=0)
    height = TOP + ROW * len(steps) + 10
    title = f"Funnel of {funnel.flow} ({bot_name}): entries per node along the main path"
    desc = "; ".join(_row_text(step) for step in steps)
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" font-family="sans-serif" font-size="{FONT}">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="20" font-weight="bold" fill="#222222">{escape(title)}</text>',
    ]
    for index, step in enumerate(steps):
        y = TOP + index * ROW
        middle = y + BAR / 2 + FONT * 0.35
        length = bar_space * (step.entries.exact or 0) / largest if largest else 0.0
        value = step.entries.text()
        drop = drop_text(step)
        parts = [
            "<g>",
            f"<title>{escape(_row_text(step))}</title>",
            f'<text x="{label_width - 8:.1f}" y="{middle:.1f}" text-anchor="end" fill="#222222">{escape(step.node)}</text>',
        ]
        if step.entries.shown and length > 0:
            parts.append(f'<rect x="{label_width:.1f}" y="{y}" width="{max(length, 1.0):.1f}" height="{BAR}" fill="{COLOUR}"/>')
        text_x = label_width + (length if step.entries.shown else 0.0) + 6
        shown = f"{value} · {drop}" if drop else value
        parts.append(f'<text x="{text_x:.1f}" y="{middle:.1f}" fill="#222222">{escape(shown)}</text>')
        parts.append("</g>")
        lines.append("".join(parts))
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def _row_text(step: Step) -> str:
    text = f"{step.node}: {step.entries.text()} entries"
    drop = drop_text(step)
    return f"{text}, {drop}" if drop else text
