"""`bots run [BOT...]`: run bots on Telegram, by long polling or a webhook."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from bots.cli.common import add_log_format, api_url, known_bot, load, runnable_bots, vault

if TYPE_CHECKING:
    from bots.cli.common import Commands


def add_parsers(commands: Commands) -> None:
    run = commands.add_parser("run", help="run bots on Telegram (all of them with no names)")
    run.add_argument("bots", nargs="*", metavar="BOT", help="the bots to run (default: every bot)")
    run.add_argument("--api-url", help="Bot API base URL, token and method appended (default: $TELEGRAM_API_URL or Telegram's)")
    run.add_argument("--webhook", metavar="URL", help="receive updates by webhook at URL/<bot> instead of long polling")
    run.add_argument("--listen", default="127.0.0.1", help="address the webhook server listens on (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8443, help="port of the webhook server (default 8443)")
    run.add_argument(
        "--max-connections",
        type=int,
        default=40,
        metavar="N",
        help="webhook requests Telegram may have open at once, 1-100 (default 40)",
    )
    run.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    run.add_argument(
        "--pace",
        choices=["telegram", "off"],
        default="telegram",
        help="'telegram' keeps to Telegram's limits (30/s per bot, 1/s per chat, 20/min per group); "
        "'off' only against a local Bot API server without limits, e.g. for benchmarks",
    )
    run.add_argument("--no-reload", action="store_true", help="do not watch flows/, knowledge/ and locales/ for saved changes")
    run.add_argument(
        "--insecure-dev",
        action="store_true",
        help="run without BOTS_SECRET_KEY, on the public development key (never with real people)",
    )
    run.add_argument(
        "--admin", metavar="HOST:PORT", help="serve /healthz and /metrics there, e.g. 127.0.0.1:9100 (loopback only)"
    )
    run.add_argument("--admin-public", action="store_true", help="allow a non-loopback --admin address (behind a firewall only)")
    add_log_format(run)
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    import signal

    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bots.i18n.translations import project_translator
    from bots.storage import open_store
    from bots.telegram.app import RunSettings, run_bots

    project = load(args)
    names = args.bots or runnable_bots(project)
    for name in names:
        known_bot(project, name, status=2)
    settings = RunSettings(
        api_url=api_url(args),
        webhook_url=args.webhook,
        listen=args.listen,
        port=args.port,
        max_connections=args.max_connections,
        pace=args.pace == "telegram",
        reload=not args.no_reload,
    )
    if args.admin:  # /healthz and /metrics: loopback only unless the operator insists (else AddressRefused, status 2)
        from bots.telegram.admin import check_address

        settings.admin = check_address(args.admin, public=args.admin_public)
    missing = []
    for name in names:
        env = project.bots[name].config.token_env
        settings.token_envs[name] = env
        token = os.environ.get(env, "").strip()
        if not token:
            missing.append(f"bots: {name}: no token: set the environment variable {env}")
        settings.tokens[name] = token
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 2

    store_vault = vault(args.insecure_dev, "bots run")

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with open_store(args.db, store_vault) as store:
            await run_bots(project, names, store, project_translator(project.root), settings, stop)

    asyncio.run(serve())  # StartupError and StoreError reach `main`: one line, status 1
    return 0
