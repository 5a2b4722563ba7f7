"""What a bot's part of the report shows, in order, whatever the format: headings, paragraphs,
tables and funnel charts. `render_md` and `render_html` each write these blocks out; neither
decides what is shown, so the two formats cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bots.report.figures import Figure
from bots.report.model import BotReport, Funnel, Row, Step
from bots.report.summary import humanise


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Code:
    """A table cell holding an identifier (as code, where the format has it) and words after it."""

    code: str
    words: str


Cell = str | Code


@dataclass(frozen=True)
class Table:
    head: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]
    right: int = 1  # the last `right` columns hold figures (aligned right)


@dataclass(frozen=True)
class Chart:
    funnel: Funnel


Block = Heading | str | Table | Chart  # a str is a paragraph


def bot_blocks(bot: BotReport) -> list[Block]:
    """Everything after a bot's heading and headline; nothing when nothing was counted."""
    if not bot.active:
        return []
    handoffs = bot.handoffs
    blocks: list[Block] = [
        Table(
            ("figure", "count"),
            [
                ("people (once per day)", bot.people.text()),
                ("consultations opened", handoffs.opened.text()),
                ("consultations answered", handoffs.answered.text()),
                ("consultations closed", handoffs.closed.text()),
                ("new subscribers", bot.subscribed.text()),
                ("unsubscribed", bot.unsubscribed.text()),
            ],
        ),
        Heading(3, "Outcomes"),
        _breakdown(("outcome", "conversations"), bot.outcomes) if bot.outcomes else "No conversation reached an outcome.",
        Heading(3, "Consultations"),
        Table(
            ("", "value"),
            [
                ("mean time to the first reply", _mean(handoffs.first_response, handoffs.answered)),
                ("mean time to closing", _mean(handoffs.closing, handoffs.closed)),
            ],
        ),
    ]
    if not handoffs.answered.zero:
        blocks.append(_breakdown(("first reply", "consultations"), handoffs.buckets))
    if handoffs.closed_how:
        blocks.append(_breakdown(("how they were closed", "consultations"), handoffs.closed_how))
    items = [
        (item.title if item.known else Code(item.id, "(not in the catalog)"), item.catalog, item.opened.text(), item.shown.text())
        for item in bot.items
    ]
    blocks += [
        Heading(3, "Most opened catalog items"),
        Table(("item", "catalog", "opened", "shown in results"), items, right=2) if items else "No catalog item was opened.",
        Heading(3, "Languages"),
        _breakdown(("language", "people"), bot.languages) if bot.languages else "No languages recorded.",
        Heading(3, "Funnels"),
    ]
    for funnel in bot.funnels:
        blocks += _funnel(funnel)
    return blocks


def _breakdown(head: tuple[str, str], rows: tuple[Row, ...]) -> Table:
    return Table(head, [(row.label, row.figure.text()) for row in rows])


def _mean(seconds: float | None, count: Figure) -> str:
    if seconds is not None:
        return humanise(seconds)
    return "not shown (fewer than 5)" if count.fewer_than else "–"


def _funnel(funnel: Funnel) -> list[Block]:
    if not funnel.entered:
        return [Heading(4, funnel.flow), "Nobody entered this flow."]
    rows = [
        (step.node, step.type, "yes" if step.main else "", step.entries.text(), _stopped(step), _share(step))
        for step in funnel.steps
    ]
    head = ("node", "type", "main path", "entries", "went no further", "drop-off")
    return [Heading(4, funnel.flow), Chart(funnel), Table(head, rows, right=3)]


def _stopped(step: Step) -> str:
    return step.stopped.text() if step.stopped is not None else "not counted"


def _share(step: Step) -> str:
    return f"{step.drop_off:g}%" if step.drop_off is not None else "–"
