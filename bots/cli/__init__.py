"""The `bots` command: the parser and `main`; each command group is a module of this package
(`add_parsers(commands)` and its `cmd_*` functions), calling into the layers below.

A command that cannot go on raises `BotsError` (bots.errors) or returns its exit status;
`main` prints the error as `bots: <message>` on stderr and exits with the error's status.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bots.cli import broadcast, chat, check, db, i18n, people, report, run, studio, tools
from bots.errors import BotsError
from bots.privacy import logsafe
from bots.privacy.logjson import JsonFormatter

log = logging.getLogger("bots")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bots", description="Telegram bots driven by organisers' YAML flows.")
    parser.add_argument("--project", metavar="DIR", help="the project folder (default: the one holding flows/ here or above)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check.add_parsers(commands)
    chat.add_parsers(commands)
    run.add_parsers(commands)
    people.add_parsers(commands)  # forget
    broadcast.add_parsers(commands)
    people.add_keygen_parser(commands)  # after broadcast, where `bots --help` has always listed it
    tools.add_parsers(commands)  # test, schema, graph
    report.add_parsers(commands)
    studio.add_parsers(commands)
    db.add_parsers(commands)
    i18n.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    # no text, name, id or token in any log line, exceptions included (see bots.privacy.logsafe); libraries,
    # which log requests with their contents at debug level, are kept at WARNING
    logsafe.install(level, JsonFormatter() if getattr(args, "log_format", "text") == "json" else None)
    try:
        return int(args.func(args))
    except BotsError as err:  # what the command could not do, said in one line
        print(f"bots: {err}", file=sys.stderr)
        return err.status
    except Exception as err:  # an unexpected failure: its place, never its message (it may quote data)
        log.critical("stopped by an unexpected %s", type(err).__name__, exc_info=True)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
