"""The report as one self-contained HTML page: inline CSS, the funnels as inline SVG charts,
every text escaped. Every element is closed, so the page also reads as well-formed markup."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bots.report.chart import drop_text, funnel_svg
from bots.report.data import BotReport, Figure, Funnel, Report, Row
from bots.report.summary import NOTE, headline, humanise

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; background: #fff; }
h1 { font-size: 1.6rem; } h2 { border-top: 2px solid #3b6ea8; padding-top: 1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.lead { font-size: 1.1rem; line-height: 1.5; } .note { color: #555; font-size: 0.9rem; }
figure { margin: 0.5rem 0; overflow-x: auto; } svg { max-width: 100%; height: auto; }
"""


def e(text: str) -> str:
    return escape(text, quote=True)


def render_html(report: Report) -> str:
    title = f"Report: {report.period.label}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{e(title)}</h1>",
        f'<p class="note">{e(NOTE)}</p>',
    ]
    for bot in report.bots:
        parts += _bot(bot, report)
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]], right: int = 1, caption: str = "") -> list[str]:
    """A table (texts not yet escaped) whose last `right` columns hold figures."""
    left = len(head) - right

    def cells(tag: str, row: tuple[str, ...]) -> str:
        number = ' class="n"'
        return "".join(f"<{tag}{number if i >= left else ''}>{e(cell)}</{tag}>" for i, cell in enumerate(row))

    out = ["<table>"]
    if caption:
        out.append(f"<caption>{e(caption)}</caption>")
    out.append(f'<thead><tr>{cells("th", head)}</tr></thead>')
    out.append("<tbody>" + "".join(f"<tr>{cells('td', row)}</tr>" for row in rows) + "</tbody>")
    out.append("</table>")
    return out


def _breakdown(head: tuple[str, str], rows: tuple[Row, ...]) -> list[str]:
    return _table(head, [(row.label, row.figure.text()) for row in rows])


def _bot(bot: BotReport, report: Report) -> list[str]:
    out = [f'<section id="bot-{e(bot.bot)}">', f"<h2>{e(bot.name)} <small>({e(bot.bot)})</small></h2>"]
    out.append(f'<p class="lead">{e(headline(bot, report.period))}</p>')
    if not bot.active:
        return out + ["</section>"]
    handoffs = bot.handoffs
    out += _table(
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
    out.append("<h3>Outcomes</h3>")
    out += _breakdown(("outcome", "conversations"), bot.outcomes) if bot.outcomes else ["<p>No conversation reached an outcome.</p>"]
    out.append("<h3>Consultations</h3>")
    out += _table(
        ("", "value"),
        [
            ("mean time to the first reply", _mean(handoffs.first_response, handoffs.answered)),
            ("mean time to closing", _mean(handoffs.closing, handoffs.closed)),
        ],
    )
    if handoffs.answered != Figure(exact=0):
        out += _breakdown(("first reply", "consultations"), handoffs.buckets)
    if handoffs.closed_how:
        out += _breakdown(("how they were closed", "consultations"), handoffs.closed_how)
    out.append("<h3>Most opened catalog items</h3>")
    if bot.items:
        rows = [
            (item.title if item.known else f"{item.id} (not in the catalog)", item.catalog, item.opened.text(), item.shown.text())
            for item in bot.items
        ]
        out += _table(("item", "catalog", "opened", "shown in results"), rows, right=2)
    else:
        out.append("<p>No catalog item was opened.</p>")
    out.append("<h3>Languages</h3>")
    out += _breakdown(("language", "people"), bot.languages) if bot.languages else ["<p>No languages recorded.</p>"]
    out.append("<h3>Funnels</h3>")
    for funnel in bot.funnels:
        out += _funnel(bot, funnel)
    return out + ["</section>"]


def _mean(seconds: float | None, count: Figure) -> str:
    if seconds is not None:
        return humanise(seconds)
    return "not shown (fewer than 5)" if count.fewer_than else "–"


def _funnel(bot: BotReport, funnel: Funnel) -> list[str]:
    out = [f"<h4>{e(funnel.flow)}</h4>"]
    if not funnel.entered:
        return out + ["<p>Nobody entered this flow.</p>"]
    out += ["<figure>", funnel_svg(funnel, bot.name, f"{bot.bot}-{funnel.flow}").rstrip("\n"), "</figure>"]
    rows = [(step.node, step.type, step.entries.text(), drop_text(step) or "–") for step in funnel.steps]
    return out + _table(("node", "type", "entries", "to the next node"), rows, right=2)
