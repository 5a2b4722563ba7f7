"""The report in Markdown: a section per bot with tables; the funnels' charts are SVG files
written beside the report (`<stem>-<bot>-<flow>.svg`) and linked to, when there is a file."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from bots.report.chart import funnel_svg
from bots.report.model import BotReport, Report
from bots.report.sections import Block, Cell, Chart, Code, Heading, Table, bot_blocks
from bots.report.summary import NOTE, headline

SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md(text: str) -> str:
    """Text as it reads, in a Markdown paragraph or table cell."""
    return SPECIAL.sub(r"\\\1", " ".join(text.split()))


def chart_name(stem: str, bot: str, flow: str) -> str:
    """`report-mara-main.svg` for mara's own flow `main`, `report-mara-shared-human.svg` for
    `shared/human` (flow ids have no hyphen, so the names cannot clash)."""
    owner, _, flow_id = flow.partition("/")
    return f"{stem}-{bot}-{flow_id if owner == bot else f'{owner}-{flow_id}'}.svg"


def render_markdown(report: Report, output: Path | None = None) -> tuple[str, dict[Path, str]]:
    """The Markdown text and, when it goes to `output`, the charts to write beside it."""
    charts: dict[Path, str] = {}
    lines = [f"# Report: {md(report.period.label)}", "", md(NOTE), ""]
    if output is None:
        lines += ["The funnel charts are written as SVG files beside the report with `-o FILE`.", ""]
    for bot in report.bots:
        lines += [f"## {md(bot.name)} ({md(bot.bot)})", "", md(headline(bot, report.period)), ""]
        for block in bot_blocks(bot):
            lines += _block(block, bot, output, charts)
    return "\n".join(lines).rstrip("\n") + "\n", charts


def _block(block: Block, bot: BotReport, output: Path | None, charts: dict[Path, str]) -> list[str]:
    """The lines of one block, each block followed by an empty line; a chart, when there is a
    file to put it beside, goes into `charts` and is linked to."""
    if isinstance(block, Heading):
        return ["#" * block.level + " " + md(block.text), ""]
    if isinstance(block, Table):
        align = ["---"] * (len(block.head) - block.right) + ["---:"] * block.right
        return [_row(block.head), _row(align)] + [_row(tuple(_cell(cell) for cell in row)) for row in block.rows] + [""]
    if isinstance(block, Chart):
        if output is None:
            return []
        flow = block.funnel.flow
        name = chart_name(output.stem, bot.bot, flow)
        charts[output.parent / name] = funnel_svg(block.funnel, bot.name, f"{bot.bot}-{flow}")
        return [f"![Funnel of {md(flow)}]({quote(name)})", ""]
    return [md(block), ""]


def _row(cells: tuple[str, ...] | list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(cell: Cell) -> str:
    return f"`{cell.code}` {md(cell.words)}" if isinstance(cell, Code) else md(cell)
