"""`bots forget` (everything about one person deleted, as /forget does) and `bots keygen`
(a new secret key for BOTS_SECRET_KEY)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from bots.cli.common import api_url, bot_and_vault

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    forget = commands.add_parser("forget", help="delete everything about one person, as /forget does")
    forget.add_argument("--bot", required=True, help="the bot the person talked to")
    forget.add_argument("--chat", required=True, help="the person's Telegram chat id")
    forget.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    forget.add_argument("--api-url", help="Bot API base URL (default: $TELEGRAM_API_URL or Telegram's)")
    forget.add_argument("--insecure-dev", action="store_true", help="the database uses the public development key")
    forget.set_defaults(func=cmd_forget)


def add_keygen_parser(commands: Commands) -> None:
    keygen = commands.add_parser("keygen", help="print a new secret key for BOTS_SECRET_KEY")
    keygen.set_defaults(func=cmd_keygen)


def cmd_forget(args: argparse.Namespace) -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bots.i18n.translations import project_translator
    from bots.storage import open_store
    from bots.telegram.app import forget_person

    try:
        chat_id = int(args.chat)
    except ValueError:
        print(f"bots: --chat takes the person's Telegram chat id (a number), not '{args.chat}'", file=sys.stderr)
        return 2
    project, vault = bot_and_vault(args, "bots forget")
    env = project.bots[args.bot].config.token_env
    token = os.environ.get(env, "").strip()
    url = api_url(args)

    async def forget() -> tuple[int, bool]:
        async with open_store(args.db, vault) as store:
            return await forget_person(
                project, args.bot, chat_id, store, project_translator(project.root), token=token, api_url=url
            )

    calls, sent = asyncio.run(forget())  # StartupError and StoreError reach `main`: one line, status 1
    print(f"{args.bot}: every row about that person is deleted from the database.")
    if sent:
        print(f"{args.bot}: {calls} deletion(s) made in Telegram (messages under 48 hours old, handoff topics).")
    elif calls:
        print(f"{args.bot}: no token in {env}: {calls} deletion(s) in Telegram wait until the bot next starts.")
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from bots.privacy.vault import ENV, new_key

    print(new_key())
    print(f"Keep it secret and set it as {ENV} wherever the bots run; losing it makes the database unreadable.", file=sys.stderr)
    return 0
