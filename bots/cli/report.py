"""`bots report`: the summary of what the bots did in a week or period, from the counters."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bots.cli.common import known_bot, load, runnable_bots, write_out

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    report = commands.add_parser("report", help="write the summary of what the bots did in a week or period, from the counters")
    report.add_argument("--bot", help="only this bot (default: every bot)")
    report.add_argument("--week", metavar="YYYY-Www", help="an ISO week, e.g. 2024-W05 (default: the last complete week)")
    report.add_argument("--since", metavar="DATE", help="the first day, YYYY-MM-DD (instead of --week)")
    report.add_argument("--until", metavar="DATE", help="the last day, included (default with --since: today)")
    report.add_argument("--format", choices=["md", "html", "json"], default="md", help="md (default), html or json")
    report.add_argument("-o", "--output", metavar="FILE", help="write to FILE (Markdown: the charts as SVG files beside it)")
    report.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from bots.report import build_report, choose_period, render
    from bots.storage import database_location

    project = load(args)
    if args.bot:
        known_bot(project, args.bot, status=2)
    try:
        period = choose_period(args.week, args.since, args.until)
    except ValueError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 2
    bots = [args.bot] if args.bot else runnable_bots(project)
    output = Path(args.output) if args.output else None
    # counters that cannot be read are a ReportError, which reaches `main`: one line, status 1
    report = build_report(project, database_location(args.db), period, bots)
    text, charts = render(report, args.format, output)
    if output is None:
        write_out(text)
        return 0
    try:
        for path, svg in charts.items():
            path.write_text(svg, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        print(f"bots: cannot write {err.filename or output}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {output}", file=sys.stderr)
    return 0
