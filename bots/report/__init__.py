"""`bots report`: what the bots achieved in a period, from the aggregate counters only.

`period` names the days asked for; `counters` reads them from the database (read-only, plain
sqlite3); `data` builds the `Report` (`model`) from them, every count a figure safe to publish
(`figures`: nothing under 5, nothing derivable by subtraction). `sections` says what a bot's
part of the report shows, which `render_md` and `render_html` write out, and JSON holds the same
`Report`; `chart` draws a flow's funnel in SVG; `summary` words the headline and the short weekly
summary for the moderators' group (`weekly_summary_html`).
"""

from __future__ import annotations

import json
from pathlib import Path

from bots.report.counters import ReportError
from bots.report.data import build_report
from bots.report.figures import HIDE_BELOW, Figure
from bots.report.model import BotReport, Report
from bots.report.period import Period, choose_period, last_complete_week, week_period
from bots.report.render_html import render_html
from bots.report.render_md import render_markdown
from bots.report.summary import humanise, weekly_summary_html

FORMATS = ("md", "html", "json")

__all__ = [
    "FORMATS",
    "HIDE_BELOW",
    "BotReport",
    "Figure",
    "Period",
    "Report",
    "ReportError",
    "build_report",
    "choose_period",
    "humanise",
    "last_complete_week",
    "render",
    "week_period",
    "weekly_summary_html",
]


def render(report: Report, form: str, output: Path | None = None) -> tuple[str, dict[Path, str]]:
    """The report as `form` (md, html or json), and the files to write beside `output` (the
    Markdown's charts; none for the other formats, or when there is no output file)."""
    if form == "md":
        return render_markdown(report, output)
    if form == "html":
        return render_html(report), {}
    if form == "json":
        return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", {}
    raise ValueError(f"unknown report format {form!r}; one of {', '.join(FORMATS)}")
