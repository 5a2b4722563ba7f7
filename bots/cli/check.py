"""`bots check [PATH]`: the diagnostics of the flows, catalogs and tests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bots.cli.common import print_diagnostics, project_root
from bots.loader import check_path

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    check = commands.add_parser("check", help="check flows, catalogs and tests; exit 1 on errors")
    check.add_argument("path", nargs="?", help="a file or folder to check (default: the whole project)")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    target = Path(args.path) if args.path else project_root(args.project)
    if not target.exists():
        print(f"bots: {target}: no such file or folder", file=sys.stderr)
        return 2
    diagnostics = check_path(target)
    print_diagnostics(diagnostics)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if errors or warnings:
        print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    else:
        print("no problems found", file=sys.stderr)
    return 1 if errors else 0
