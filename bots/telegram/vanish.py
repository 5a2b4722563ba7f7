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
from bots.storage import ConversationKey
from bots.storage.outcome import Outcome

if TYPE_CHECKING:
    from bots.telegram.runner import BotRunner

log = logging.getLogger(__name__)

VANISH_EVERY = 10.0  # how often the job looks for what is due: deletions are at most this late
BATCH = 100  # message ids per deleteMessages, Telegram's limit


def urgent(outcome: Outcome) -> Outcome:
    """The quick exit's outcome, its calls to the person's chat marked urgent for the sender
    (in memory only: it is not journalled; after a crash they are resent as usual)."""
    chat = outcome.key.chat if outcome.key is not None else None
    calls = [
        dataclasses.replace(call, delivery=dataclasses.replace(call.delivery, urgent=True)) if call.chat == chat else call
        for call in outcome.calls
    ]
    return dataclasses.replace(outcome, calls=calls)


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
            await store.commit(Outcome(calls=calls, extra=store.vanished_statements(runner.bot_id, due)), now=now)
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
