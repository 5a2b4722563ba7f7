"""The report as one self-contained HTML page: inline CSS, the funnels as inline SVG charts,
every text escaped. Every element is closed, so the page also reads as well-formed markup."""

from __future__ import annotations

from html import escape

from bots.report.chart import funnel_svg
from bots.report.model import BotReport, Report
from bots.report.sections import Block, Cell, Chart, Code, Heading, Table, bot_blocks
from bots.report.summary import NOTE, headline

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
        parts += [
            f'<section id="bot-{e(bot.bot)}">',
            f"<h2>{e(bot.name)} <small>({e(bot.bot)})</small></h2>",
            f'<p class="lead">{e(headline(bot, report.period))}</p>',
        ]
        for block in bot_blocks(bot):
            parts += _block(block, bot)
        parts.append("</section>")
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _block(block: Block, bot: BotReport) -> list[str]:
    """The elements of one block (its texts escaped here); charts inline."""
    if isinstance(block, Heading):
        return [f"<h{block.level}>{e(block.text)}</h{block.level}>"]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        return ["<figure>", funnel_svg(block.funnel, bot.name, f"{bot.bot}-{block.funnel.flow}").rstrip("\n"), "</figure>"]
    return [f"<p>{e(block)}</p>"]


def _table(table: Table) -> list[str]:
    left = len(table.head) - table.right

    def cells(tag: str, row: tuple[Cell, ...]) -> str:
        number = ' class="n"'
        return "".join(f"<{tag}{number if i >= left else ''}>{e(_text(cell))}</{tag}>" for i, cell in enumerate(row))

    head = f"<thead><tr>{cells('th', table.head)}</tr></thead>"
    body = "<tbody>" + "".join(f"<tr>{cells('td', row)}</tr>" for row in table.rows) + "</tbody>"
    return ["<table>", head, body, "</table>"]


def _text(cell: Cell) -> str:
    return f"{cell.code} {cell.words}" if isinstance(cell, Code) else cell
