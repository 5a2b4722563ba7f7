"""`bots studio`: the organisers' studio in the browser, on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bots.cli.common import project_root

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    studio = commands.add_parser("studio", help="edit, check, try and translate the flows in the browser (local only)")
    studio.add_argument("--port", type=int, default=8765, help="the port on 127.0.0.1 (default 8765; 0 for any free one)")
    studio.set_defaults(func=cmd_studio)


def cmd_studio(args: argparse.Namespace) -> int:
    from bots.studio import serve

    root = project_root(args.project)
    if not (root / "flows").is_dir() and not (root / "knowledge").is_dir():
        print(f"bots: {root}: no flows/ or knowledge/ folder here: run 'bots studio' in a project folder", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(root, args.port))
    except OSError as err:
        print(f"bots: cannot listen on 127.0.0.1:{args.port}: {err.strerror or err} (try --port)", file=sys.stderr)
        return 2
    return 0
