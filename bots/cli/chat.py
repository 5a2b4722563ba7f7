"""`bots chat BOT`: talk to a bot in the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bots.cli.common import known_bot, load, reader_may_leave, vault

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    chat = commands.add_parser("chat", help="talk to a bot in the terminal")
    chat.add_argument("bot", help="the bot, e.g. mara")
    chat.add_argument("--lang", help="the language to speak (one of the bot's locales)")
    chat.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    chat.add_argument("--name", help="the first name the bot sees (default: your login name)")
    chat.add_argument("--restart", action="store_true", help="begin again instead of carrying on")
    chat.set_defaults(func=cmd_chat)


def cmd_chat(args: argparse.Namespace) -> int:
    from bots.console.terminal import ConsoleChat, default_first_name
    from bots.engine import Engine
    from bots.i18n.translations import project_translator
    from bots.loader.watcher import ProjectWatcher
    from bots.storage import open_store

    project = load(args)
    bot = known_bot(project, args.bot, status=1)
    if args.lang and args.lang not in project.bots[bot].config.locales:
        offered = ", ".join(project.bots[bot].config.locales)
        print(f"bots: {bot} does not speak '{args.lang}'; it offers: {offered}", file=sys.stderr)
        return 2
    engine = Engine(project, bot, project_translator(project.root))
    store_vault = vault(True, "bots chat")

    async def chat() -> None:
        async with open_store(args.db, store_vault) as store:
            console = ConsoleChat(
                engine,
                store,
                lang=args.lang,
                first_name=args.name if args.name is not None else default_first_name(),
                restart=args.restart,
                watcher=ProjectWatcher(project.root),
            )
            await console.run()

    try:
        with reader_may_leave():  # `bots chat mara | head`
            asyncio.run(chat())
    except KeyboardInterrupt:
        print(file=sys.stderr)
    return 0
