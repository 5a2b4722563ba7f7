"""The headline of a bot's report in words, and the short weekly summary for the moderators'
group (Telegram HTML: only <b>, <i> and <a>, well under Telegram's 4,096 characters)."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from bots.engine.project import Project
from bots.report.data import build_report
from bots.report.figures import Figure
from bots.report.model import BotReport
from bots.report.period import Period, week_period
from bots.storage.database import is_postgres_url

TELEGRAM_LIMIT = 4000
NOTE = (
    "Figures under 5 are shown as “fewer than 5”, and one that would let such a figure be worked out "
    "from a total as “5 or more”; people are counted once per day they wrote."
)


def humanise(seconds: float) -> str:
    """`45 s`, `12 min`, `2 h 10 min`, `1 d 3 h`."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def counted(figure: Figure, one: str, many: str) -> str:
    """`1,234 people`, `fewer than 5 people`, `0 people`."""
    return f"{figure.text()} {one if figure.exact == 1 else many}"


def headline(report: BotReport, period: Period) -> str:
    """The week in a few sentences, in the manner of the organisers' weekly summary."""
    when = f"In the {period.label}" if period.week else f"From {period.dates}"
    if not report.active:
        return f"{when} nothing was counted for {report.name}."
    sentences = [
        f"{when} {report.name} helped {counted(report.people, 'person', 'people')} (each counted once per day they wrote)."
    ]
    handoffs = report.handoffs
    if not handoffs.opened.zero:
        sentence = f"{handoffs.opened.text()} sought a consultation with a person from the team"
        if not handoffs.answered.zero:
            sentence += f"; {handoffs.answered.text()} were answered"
        if handoffs.first_response is not None:
            sentence += f", on average after {humanise(handoffs.first_response)}"
        sentences.append(sentence + ".")
    outcomes = [row for row in report.outcomes if not row.figure.zero]
    if outcomes:
        listed = "; ".join(f"“{row.label}” {row.figure.text()}" for row in outcomes[:5])
        more = f" (and {len(outcomes) - 5} more outcomes)" if len(outcomes) > 5 else ""
        sentences.append(f"Conversations completed, by outcome: {listed}{more}.")
    if not report.subscribed.zero:
        sentences.append(f"{counted(report.subscribed, 'person', 'people')} subscribed to the news.")
    return " ".join(sentences)


def weekly_summary_html(project: Project, db_path: str | os.PathLike[str], bot_id: str, week: str | Period) -> str:
    # db_path: a SQLite file, or a postgresql:// URL
    """A short summary of `bot_id`'s ISO `week` (`YYYY-Www`, or a Period) in Telegram HTML, for
    posting to its moderators' group. Raises `ReportError` when the counters cannot be read."""
    period = week_period(week) if isinstance(week, str) else week
    db = db_path if isinstance(db_path, str) and is_postgres_url(db_path) else Path(db_path)
    report = build_report(project, db, period, [bot_id]).bots[0]
    return summary_html(report, period)


def summary_html(report: BotReport, period: Period) -> str:
    def e(text: str) -> str:
        return escape(text, quote=False)

    def cut(text: str, size: int = 80) -> str:
        return text if len(text) <= size else text[: size - 1] + "…"

    blocks = [f"<b>{e(report.name)}: {e(period.label)}</b>", e(headline(report, period))]
    handoffs = report.handoffs
    if report.active and not handoffs.opened.zero:
        lines = [
            "<b>Consultations</b>",
            f"opened {handoffs.opened.text()} · answered {handoffs.answered.text()} · closed {handoffs.closed.text()}",
        ]
        if handoffs.first_response is not None:
            lines.append(f"mean time to the first reply: {humanise(handoffs.first_response)}")
        if handoffs.closing is not None:
            lines.append(f"mean time to closing: {humanise(handoffs.closing)}")
        blocks.append("\n".join(lines))
    if report.items:
        lines = ["<b>Most opened</b>"]
        lines += [f"• {e(cut(item.title))}: {item.opened.text()}" for item in report.items[:5]]
        blocks.append("\n".join(lines))
    blocks.append(f"<i>{e(NOTE)}</i>")
    text = "\n\n".join(blocks)
    if len(text) <= TELEGRAM_LIMIT:
        return text
    # only very long names or outcome tags come here: the title, as much of the headline as fits, the note
    fixed = f"{blocks[0]}\n\n\n\n<i>{e(NOTE)}</i>"
    raw = headline(report, period)
    size = len(raw)
    while size > 0 and len(e(cut(raw, size))) > TELEGRAM_LIMIT - len(fixed):
        size -= max(1, size // 10)
    return "\n\n".join([blocks[0], e(cut(raw, size)) if size > 0 else "", f"<i>{e(NOTE)}</i>"])
