"""Vanishing chats and the quick exit on Telegram (issue 13).

A chat vanishes when the bot has `vanish_after:` or the person chose a delay under /help:
every message in it, the bot's and the person's, is scheduled in the database when it is
sent or received (`bots.storage.sql_vanish`), and a job run by one worker deletes what is due,
journalling each deletion in the transaction that removes its rows, so that a restart or a
crash loses none and nothing is kept once it is done.

The quick exit deletes every message the bot can, forgets the person as `/forget` does and
leaves one harmless line; its calls are urgent (`_urgent`): they replace whatever was still
queued for the chat and go first when Telegram lets the bot send again after a 429.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bots.calls import BotApiCall, Delivery
from bots.engine.asides import vanish_seconds
from bots.engine.state import ConversationState
from bots.storage import ConversationKey, IncomingUpdate, OutgoingCall

if TYPE_CHECKING:
    from bots.telegram.runner import BotRunner

log = logging.getLogger(__name__)

VANISH_EVERY = 10.0  # how often the job looks for what is due: deletions are at most this late
BATCH = 100  # message ids per deleteMessages, Telegram's limit


def seconds_for(runner: BotRunner, state: ConversationState | None) -> int:
    """How old this person's chat's messages may get (0: they stay)."""
    return vanish_seconds(state, runner.engine.bot.config)


async def vanish_for(runner: BotRunner, chat: str) -> float | None:
    """For a call to this chat made outside the person's step (a moderator's reply): after how
    many seconds its message vanishes (its `Delivery.vanish`), or None."""
    state = await runner.store.load(ConversationKey(runner.bot_id, chat))
    return seconds_for(runner, state) or None


async def chosen(runner: BotRunner, chat: str, person: int, seconds: int, *, now: dt.datetime) -> None:
    """The person chose a delay: what the bot still knows of their chat follows it at once."""
    count = await runner.store.reschedule_vanishing(runner.bot_id, chat, (person, seconds) if seconds else None, now=now)
    log.info(
        "%s: %s chose %s (%d message(s) scheduled)",
        runner.bot_id,
        runner.pseudonyms.of(chat),
        f"to vanish after {seconds}s" if seconds else "not to vanish",
        count,
    )


async def quick_exit(
    runner: BotRunner, key: ConversationKey, person: int, incoming: IncomingUpdate | None, *, lang: str, now: dt.datetime
) -> list[OutgoingCall]:
    """Forget the person as /forget does, leaving the bot's harmless line; the chat's calls
    are marked urgent for the sender (see the module's docstring). The caller holds the lock."""
    calls = await runner.forget(key, person, incoming, lang=lang, now=now, farewell=runner.engine.exit_line(lang))
    # urgent in memory only (it is not journalled): after a crash they are resent as usual
    return [
        dataclasses.replace(call, delivery=dataclasses.replace(call.delivery, urgent=True)) if call.chat == key.chat else call
        for call in calls
    ]


async def vanish_due(runner: BotRunner, *, now: dt.datetime) -> int:
    """Journal the deletion of every message that is due, chat by chat under its lock (a
    quick exit or /forget meanwhile has taken the rows away); returns how many."""
    store = runner.store
    deleted = 0
    for due in await store.due_vanishing(runner.bot_id, now=now):
        async with store.lock(ConversationKey(runner.bot_id, due.chat)):
            if not await store.vanishing_count(runner.bot_id, due.chat):
                continue
            outs = [
                BotApiCall(
                    due.chat,
                    "deleteMessages",
                    {"chat_id": due.person, "message_ids": list(due.message_ids[i : i + BATCH])},
                    Delivery(quiet=True),
                )
                for i in range(0, len(due.message_ids), BATCH)
            ]
            calls = runner.to_calls(outs)
            await store.commit_step(
                None, None, update=None, calls=calls, now=now, extra=store.vanished_statements(runner.bot_id, due)
            )
        runner.sender.enqueue(calls)
        deleted += len(due.message_ids)
    if deleted:
        log.info("%s: deleted %d message(s) whose time had come", runner.bot_id, deleted)
    return deleted


async def keep_vanishing(runners: Sequence[BotRunner], every: float = VANISH_EVERY) -> None:
    """The vanishing job: what is due, now and every `every` seconds (run by one worker)."""
    while True:
        now = dt.datetime.now(dt.timezone.utc)
        for runner in runners:
            try:
                await vanish_due(runner, now=now)
            except Exception as err:  # noqa: BLE001 - the next round tries again; nothing is lost
                log.warning("%s: cannot delete what is due now (%s): trying again", runner.bot_id, type(err).__name__)
        if runners:
            try:
                await runners[0].store.purge_vanishing(now=now)
            except Exception as err:  # noqa: BLE001 - the database: the next round purges
                log.warning("cannot purge what has vanished (%s): trying again", type(err).__name__)
        await asyncio.sleep(every)
