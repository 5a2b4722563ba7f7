"""`bots test` (the conversation tests), `bots schema` (the JSON Schemas for editors) and
`bots graph` (a bot's flows as a diagram)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bots.cli.common import known_bot, load, project_root, shown, write_out

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    test = commands.add_parser("test", help="run the conversation tests in flows/*/tests/")
    test.add_argument("bot", nargs="?", help="only this bot's tests")
    test.add_argument("--coverage", action="store_true", help="then show, per flow, the nodes and buttons that no test reaches")
    test.set_defaults(func=cmd_test)

    schema = commands.add_parser("schema", help="write the JSON Schemas that editors use to check the YAML files")
    schema.add_argument("-o", "--output", metavar="DIR", help="the folder to write them to (default: schemas/ in the project)")
    schema.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files differ from what would be written"
    )
    schema.set_defaults(func=cmd_schema)

    graph = commands.add_parser("graph", help="draw a bot's flows, or one flow, as a diagram")
    graph.add_argument("target", metavar="BOT[/FLOW]", help="a bot (all its flows) or one flow, e.g. mara or mara/main")
    graph.add_argument(
        "--format",
        choices=["mermaid", "dot", "svg", "png"],
        default="mermaid",
        help="mermaid (default) or dot text; svg or png are drawn by Graphviz's dot program",
    )
    graph.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default: standard output; for svg and png <bot>[-<flow>].<format>)"
    )
    graph.set_defaults(func=cmd_graph)


def cmd_test(args: argparse.Namespace) -> int:
    from bots.i18n.translations import project_translator
    from bots.tools.testrunner import describe_failure, run_tests

    project = load(args)
    bots = [b for b in project.bots if project.bots[b].tests]
    if args.bot:
        bots = [known_bot(project, args.bot, status=1)]
    coverage = None
    if args.coverage:
        from bots.tools.coverage import Coverage

        coverage = Coverage()
    report = run_tests(project, bots, project_translator(project.root), coverage=coverage)
    for failure in report.failures:
        print(describe_failure(failure))
        print()
    total = report.passed + report.failed
    if total == 0:
        print("no conversation tests found")
        return 1 if args.bot else 0
    if coverage is not None:
        from bots.tools.coverage import report as coverage_report

        print(coverage_report(project, coverage, bots))
        print()
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from bots.tools import schema

    folder = Path(args.output) if args.output else project_root(args.project) / schema.FOLDER
    if args.check:
        stale = schema.stale(folder)
        for path in stale:
            state = "is out of date" if path.exists() else "is missing"
            print(f"bots: {shown(path)} {state}: run 'bots schema' and commit the result", file=sys.stderr)
        if not stale:
            print(f"the schemas are up to date ({shown(folder)})", file=sys.stderr)
        return 1 if stale else 0
    try:
        changed = schema.write(folder)
    except OSError as err:
        print(f"bots: cannot write the schemas to {shown(folder)}: {err.strerror or err}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {shown(path)}", file=sys.stderr)
    if not changed:
        print(f"the schemas are up to date ({shown(folder)})", file=sys.stderr)
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from bots.tools import graph

    project = load(args)
    try:  # a GraphError (what cannot be drawn) reaches `main`: one line, status 2
        drawing = graph.draw(project, args.target)
        if args.format in graph.TEXT_FORMATS:
            text = graph.render(drawing, args.format)
            if not args.output:
                write_out(text)
                return 0
            path = Path(args.output)
            path.write_text(text, encoding="utf-8")
        else:
            path = Path(args.output or graph.default_file(args.target, args.format))
            graph.draw_image(graph.to_dot(drawing), args.format, path)
    except OSError as err:
        print(f"bots: cannot write {args.output}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {path}", file=sys.stderr)
    return 0
