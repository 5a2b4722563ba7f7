"""`bots broadcast BOT FILE [--dry-run] [--drop-unfinished]`: the command around `Broadcast`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bots.broadcast.markdown import NewsError
from bots.broadcast.news import News, load_news
from bots.broadcast.progress import Progress
from bots.broadcast.sending import Broadcast, BroadcastError, Tally
from bots.privacy.vault import Vault
from bots.storage import StoreError, store_at
from bots.storage.database import is_postgres_url
from bots.storage.sql_news import BroadcastRecord, SQLNews
from bots.telegram.app import make_bot

if TYPE_CHECKING:
    from bots.engine import Project


def _describe(record: BroadcastRecord) -> str:
    tally = Tally.from_counts(record.total, record.counts)
    when = f"{record.started_at:%Y-%m-%d %H:%M} UTC"
    if record.finished_at is not None:  # finished
        return f"this message was already sent (started {when}, finished {record.finished_at:%Y-%m-%d %H:%M} UTC): {tally.line()}"
    return (
        f"this message was started on {when} and not finished: {tally.done} of {record.total} done ({tally.line()}); "
        f"sending goes on with the {tally.pending} left"
    )


def _show_texts(news: News, audience: dict[str, int], out: TextIO) -> None:
    """Each language's text as it would be sent, with how many people would get it."""
    for lang, section in news.sections.items():
        out.write(f"\n--- {lang}: {audience.get(lang, 0)} subscriber(s), {section.length} characters ---\n")
        out.write(section.html + "\n")
    out.write("\n(dry run: nothing was sent)\n")


async def dry_run(store: SQLNews, bot_id: str, news: News, out: TextIO) -> None:
    """Print what would be sent, to how many people, in which language; send nothing."""
    plan = await Broadcast(store, bot_id, news).plan()
    out.write(f"{bot_id}: {news.path} (sha256 {news.digest[:12]}), {plan.subscribers} subscriber(s)\n")
    if plan.record is not None:
        out.write(f"{bot_id}: {_describe(plan.record)}\n")
    for other in plan.unfinished:
        out.write(
            f"{bot_id}: another message (started {other.started_at:%Y-%m-%d %H:%M} UTC) is not finished: "
            "sending this one needs --drop-unfinished\n"
        )
    _show_texts(news, plan.audience, out)


async def send(
    db: Path | str,
    vault: Vault,
    bot_id: str,
    news: News,
    *,
    token: str,
    api_url: str | None,
    drop_unfinished: bool = False,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
) -> Tally:
    """Send `news` with a bot of its own (the broadcast starts it and shuts it down)."""
    async with store_at(str(db), vault) as store:
        broadcast = Broadcast(store, bot_id, news, make_bot(token, api_url), progress=progress, drop_unfinished=drop_unfinished)
        return await broadcast.run(stop)


def _missing(db: Path | str) -> bool:
    """A SQLite file that does not exist (a PostgreSQL database is asked when opened)."""
    return not is_postgres_url(str(db)) and not Path(db).exists()


def _dry_run(bot_id: str, news: News, *, vault: Vault, db: Path | str) -> int:
    if _missing(db):
        print(f"bots: no database at {db} (--db, $BOTS_DB): nobody has subscribed there", file=sys.stderr)
        _show_texts(news, {}, sys.stdout)
        return 0

    async def show() -> None:
        async with store_at(str(db), vault) as store:
            await dry_run(store, bot_id, news, sys.stdout)

    try:
        asyncio.run(show())
    except StoreError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    return 0


def command(
    project: Project,
    bot_id: str,
    file: Path,
    *,
    vault: Vault,
    db: Path | str,
    api_url: str | None,
    dry_run_only: bool,
    drop_unfinished: bool = False,
) -> int:
    """`bots broadcast`: the exit status (0 done, 1 refused or not finished, 2 usage)."""
    config = project.bots[bot_id].config
    try:
        news = load_news(file, list(config.locales))
    except NewsError as err:
        print(err, file=sys.stderr)
        return 1
    for warning in news.warnings:
        print(warning, file=sys.stderr)
    if dry_run_only:
        return _dry_run(bot_id, news, vault=vault, db=db)
    if _missing(db):
        print(f"bots: no database at {db} (--db, $BOTS_DB): nobody has subscribed there; nothing to send", file=sys.stderr)
        return 1
    token = os.environ.get(config.token_env, "").strip()
    if not token:
        print(f"bots: {bot_id}: no token: set the environment variable {config.token_env}", file=sys.stderr)
        return 2

    async def go() -> Tally:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        return await send(
            db,
            vault,
            bot_id,
            news,
            token=token,
            api_url=api_url,
            drop_unfinished=drop_unfinished,
            stop=stop,
            progress=Progress(label=f"{bot_id}: "),
        )

    try:
        tally = asyncio.run(go())
    except (BroadcastError, StoreError) as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    if tally.already:
        print(
            f"{bot_id}: this message was already sent to everyone it was for ({tally.line()}); nothing sent. "
            "To send it again, change the file."
        )
        return 0
    print(f"{bot_id}: {tally.line()}")
    if not tally.finished:
        print(f"{bot_id}: stopped with {tally.pending} not sent yet: run the same command again to send to them", file=sys.stderr)
        return 1
    return 0
