"""`bots broadcast BOT FILE`: a news file to a bot's subscribers (the command itself is
`bots.broadcast.command`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bots.cli.common import add_log_format, api_url, bot_and_vault

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    broadcast = commands.add_parser("broadcast", help="send a news file (a section per language) to a bot's subscribers")
    broadcast.add_argument("bot", help="the bot whose subscribers get the news")
    broadcast.add_argument("file", help="a Markdown file with a '## <lang>' section per language")
    broadcast.add_argument(
        "--dry-run", action="store_true", help="check and show each language's text and audience; send nothing"
    )
    broadcast.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    broadcast.add_argument("--api-url", help="Bot API base URL (default: $TELEGRAM_API_URL or Telegram's)")
    broadcast.add_argument(
        "--drop-unfinished",
        action="store_true",
        help="give up an earlier broadcast of this bot that was not sent to everyone (else it must be finished first)",
    )
    broadcast.add_argument("--insecure-dev", action="store_true", help="the database uses the public development key")
    add_log_format(broadcast)
    broadcast.set_defaults(func=cmd_broadcast)


def cmd_broadcast(args: argparse.Namespace) -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bots.broadcast import command
    from bots.storage import database_location

    project, vault = bot_and_vault(args, "bots broadcast")
    return command(
        project,
        args.bot,
        Path(args.file),
        vault=vault,
        db=database_location(args.db),
        api_url=api_url(args),
        dry_run_only=args.dry_run,
        drop_unfinished=args.drop_unfinished,
    )
