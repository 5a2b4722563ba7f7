"""What `bots run` does beside serving updates: the leases that make one worker the poller of
a bot or the runner of a periodic job, the heartbeat and sweep that take over what a dead
worker left, the tidy-up of what is no longer needed, and the weekly report."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from bots.calls import BotApiCall, Delivery
from bots.engine.project import Project
from bots.storage import SQLStore
from bots.storage.outcome import Outcome
from bots.telegram.outage import DATABASE
from bots.telegram.runner import BotRunner

log = logging.getLogger(__name__)

LEASE_TTL = 8.0  # a lease not renewed for this long is free: another worker takes over within 10 s
LEASE_EVERY = 2.0  # how often a lease is renewed, and a free one tried for
HEARTBEAT_EVERY = 2.0


async def while_leased(store: SQLStore, name: str, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `job` only while this worker holds the lease `name` (one poller per bot, one
    runner of each periodic job among all the workers on a database). When the holder dies,
    another worker's next try finds the lease expired and starts the job there."""
    while True:
        try:
            held = await store.take_lease(name, ttl=LEASE_TTL)
        except Exception as err:  # noqa: BLE001 - the database may be back at the next try
            DATABASE.failed(err, f"taking the lease {name!r}")
            held = False
        if not held:
            await asyncio.sleep(LEASE_EVERY)
            continue
        if store.shared:
            log.info("this worker now holds %r", name)
        task = asyncio.create_task(job())
        try:
            while True:
                done, _ = await asyncio.wait([task], timeout=LEASE_EVERY)
                if done:
                    task.result()  # a job that ends or fails ends the run, as without leases
                    return
                try:
                    held = await store.take_lease(name, ttl=LEASE_TTL)
                except Exception as err:  # noqa: BLE001
                    DATABASE.failed(err, f"renewing the lease {name!r}: its job stops until it is taken again")
                    break
                if not held:
                    log.warning("another worker took over %r: this one stops it", name)
                    break
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def keep_alive(store: SQLStore, runners: list[BotRunner], every: float = HEARTBEAT_EVERY) -> None:
    """Tell the other workers this one is alive, and take over what a dead one left."""
    while True:
        await asyncio.sleep(every)
        try:
            await store.heartbeat()
            DATABASE.ok()
            for runner in runners:
                await runner.sweep()
        except Exception as err:  # noqa: BLE001 - the next beat tries again
            DATABASE.failed(err, "saying this worker is alive")


JOURNAL_KEPT = dt.timedelta(hours=26)  # Telegram redelivers for 24 h at most
TIDY_EVERY = 600.0


async def tidy_once(store: SQLStore, project: Project, bot_ids: list[str], now: dt.datetime) -> int:
    """Forget what is no longer needed: processed updates once no redelivery can come (hours,
    not days), and conversations idle, and handoffs closed, for longer than their bot's
    `retention_days`."""
    removed = await store.purge_journal(before=now - JOURNAL_KEPT)
    await store.purge_messages(now=now)
    if removed:
        log.info("forgot %d processed update(s)", removed)
    forgotten = 0
    for bot_id in bot_ids:
        days = project.bots[bot_id].config.retention_days
        gone = await store.purge_idle(bot_id, before=now - dt.timedelta(days=days))
        if gone:
            log.info("%s: forgot %d conversation(s) idle for over %d days", bot_id, gone, days)
        forgotten += gone
        closed = await store.forget_closed_handoffs(bot_id, before=now - dt.timedelta(days=days))
        if closed:
            log.info("%s: forgot %d handoff(s) closed over %d days ago", bot_id, closed, days)
    return forgotten


async def keep_tidy(store: SQLStore, project: Project, bot_ids: list[str]) -> None:
    while True:
        try:
            await tidy_once(store, project, bot_ids, dt.datetime.now(dt.timezone.utc))
        except Exception as err:  # noqa: BLE001 - the database is away: the next round tidies
            log.warning("cannot tidy the database now (%s): trying again later", type(err).__name__)
        await asyncio.sleep(TIDY_EVERY)


async def post_weekly_report(runner: BotRunner, now: dt.datetime) -> bool:
    """Post last week's summary to the moderators' group, once per week (if `weekly_report`)."""
    from bots.report import ReportError, last_complete_week, weekly_summary_html

    if not runner.engine.bot.config.weekly_report or not runner.desk.available:
        return False
    week = last_complete_week(now.date())
    mark = f"weekly report {runner.bot_id} {week.week}"
    if await runner.store.meta(mark) is not None:
        return False
    try:
        text = await asyncio.to_thread(weekly_summary_html, runner.engine.project, runner.store.location, runner.bot_id, week)
    except ReportError as err:
        log.warning("%s: no weekly report: %s", runner.bot_id, err)
        return False
    calls = runner.to_calls(
        [
            BotApiCall(
                runner.desk.chat,
                "sendMessage",
                {"chat_id": runner.desk.chat_id, "text": text, "parse_mode": "HTML"},
                Delivery(quiet=True),
            )
        ]
    )
    await runner.store.commit(Outcome(calls=calls), now=now)
    await runner.store.set_meta(mark, b"posted")
    runner.sender.enqueue(calls)
    log.info("%s: posted the summary of %s to the moderators' group", runner.bot_id, week.week)
    return True


async def post_weekly_reports(runners: list[BotRunner], every: float = 3600.0) -> None:
    """Each bot that asks for it posts last week's summary to its moderators' group once a week."""
    while True:
        for runner in runners:
            try:
                await post_weekly_report(runner, dt.datetime.now(dt.timezone.utc))
            except Exception as err:  # noqa: BLE001 - the database: the next round posts it
                DATABASE.failed(err, f"{runner.bot_id}: the weekly report")
        await asyncio.sleep(every)


async def notice_other_writers(store: SQLStore, every: float = 1.0) -> None:
    """Another process (`bots forget`) may change the database: drop what we cached then."""
    while True:
        await asyncio.sleep(every)
        try:
            await store.notice_other_writers()
        except Exception as err:  # noqa: BLE001 - the next look notices them
            DATABASE.failed(err, "looking for other writers")
