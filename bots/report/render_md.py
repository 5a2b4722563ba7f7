"""The report in Markdown: a section per bot with tables; the funnels' charts are SVG files
written beside the report (`<stem>-<bot>-<flow>.svg`) and linked to, when there is a file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from bots.report.chart import drop_text, funnel_svg
from bots.report.data import BotReport, Figure, Funnel, Report, Row
from bots.report.summary import NOTE, headline, humanise

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
        lines += _bot(bot, report, output, charts)
    return "\n".join(lines).rstrip("\n") + "\n", charts


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]], right: int = 1) -> list[str]:
    """A table whose last `right` columns hold figures (aligned right)."""
    align = ["---"] * (len(head) - right) + ["---:"] * right
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out + [""]


def _breakdown(head: tuple[str, str], rows: tuple[Row, ...]) -> list[str]:
    return _table(head, [(md(row.label), row.figure.text()) for row in rows])


def _bot(bot: BotReport, report: Report, output: Path | None, charts: dict[Path, str]) -> list[str]:
    lines = [f"## {md(bot.name)} ({md(bot.bot)})", "", md(headline(bot, report.period)), ""]
    if not bot.active:
        return lines
    handoffs = bot.handoffs
    lines += _table(
        ("figure", "count"),
        [
            ("people (once per day)", bot.people.text()),
            ("consultations opened", handoffs.opened.text()),
            ("consultations answered", handoffs.answered.text()),
            ("consultations closed", handoffs.closed.text()),
            ("new subscribers", bot.subscribed.text()),
            ("unsubscribed", bot.unsubscribed.text()),
        ],
    )
    lines += ["### Outcomes", ""]
    lines += _breakdown(("outcome", "conversations"), bot.outcomes) if bot.outcomes else ["No conversation reached an outcome.", ""]
    lines += ["### Consultations", ""]
    lines += _table(
        ("", "value"),
        [
            ("mean time to the first reply", _mean(handoffs.first_response, handoffs.answered)),
            ("mean time to closing", _mean(handoffs.closing, handoffs.closed)),
        ],
    )
    if handoffs.answered != Figure(exact=0):
        lines += _breakdown(("first reply", "consultations"), handoffs.buckets)
    if handoffs.closed_how:
        lines += _breakdown(("how they were closed", "consultations"), handoffs.closed_how)
    lines += ["### Most opened catalog items", ""]
    if bot.items:
        rows = [
            (md(item.title) if item.known else f"`{item.id}` (not in the catalog)", md(item.catalog), item.opened.text(), item.shown.text())
            for item in bot.items
        ]
        lines += _table(("item", "catalog", "opened", "shown in results"), rows, right=2)
    else:
        lines += ["No catalog item was opened.", ""]
    lines += ["### Languages", ""]
    lines += _breakdown(("language", "people"), bot.languages) if bot.languages else ["No languages recorded.", ""]
    lines += ["### Funnels", ""]
    for funnel in bot.funnels:
        lines += _funnel(bot, funnel, output, charts)
    return lines


def _mean(seconds: float | None, count: Figure) -> str:
    if seconds is not None:
        return humanise(seconds)
    return "not shown (fewer than 5)" if count.fewer_than else "–"


def _funnel(bot: BotReport, funnel: Funnel, output: Path | None, charts: dict[Path, str]) -> list[str]:
    lines = [f"#### {md(funnel.flow)}", ""]
    if not funnel.entered:
        return lines + ["Nobody entered this flow.", ""]
    if output is not None:
        name = chart_name(output.stem, bot.bot, funnel.flow)
        charts[output.parent / name] = funnel_svg(funnel, bot.name, f"{bot.bot}-{funnel.flow}")
        lines += [f"![Funnel of {md(funnel.flow)}]({quote(name)})", ""]
    rows = [(md(step.node), step.type, step.entries.text(), drop_text(step) or "–") for step in funnel.steps]
    return lines + _table(("node", "type", "entries", "to the next node"), rows, right=2)
