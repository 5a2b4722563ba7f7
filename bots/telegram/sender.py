"""Send what the journal holds, chat by chat, in order, at Telegram's pace.

Each call is removed from the journal only after Telegram accepted it, so a crash re-sends
at most the call that was in flight. Telegram's errors each have their handling:
429 waits `retry_after` and tries again; 403 (blocked, deactivated) marks the chat and
drops what was queued for it; network errors retry with back-off; 400 is logged without
the text and the person gets an apology.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bots.engine.texts import BUILTIN
from bots.storage import OutgoingCall, SQLStore
from bots.telegram import metrics
from bots.telegram.pacing import Pacer
from bots.telegram.pseudonym import Pseudonyms

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
ORDER_WAIT = 0.1
HARMLESS = ("message is not modified", "message to edit not found", "query is too old")


class CallHooks(Protocol):
    """What the moderators' desk adds to sending (see `bots.telegram.desk`)."""

    async def prepare(self, call: OutgoingCall) -> dict[str, Any] | None: ...

    async def sent(self, call: OutgoingCall, result: Any) -> None: ...

    async def refused(self, call: OutgoingCall, err: BadRequest) -> bool: ...

    async def person_gone(self, chat: str) -> None: ...


def retry_seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Sender:
    def __init__(
        self,
        bot_id: str,
        bot: Bot,
        store: SQLStore,
        pacer: Pacer,
        pseudonyms: Pseudonyms,
        knowledge: Path,
        apology: Callable[[str | None], str] = lambda lang: BUILTIN["apology"],
        hooks: CallHooks | None = None,
    ) -> None:
        self.bot_id = bot_id
        self.bot = bot
        self.store = store
        self.pacer = pacer
        self.pseudonyms = pseudonyms
        self.knowledge = knowledge
        self.apology = apology
        self.hooks = hooks
        self.queues: dict[str, deque[OutgoingCall]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.stopping = False
        self.sent = 0

    def enqueue(self, calls: list[OutgoingCall]) -> None:
        for call in calls:
            self.queues.setdefault(call.chat, deque()).append(call)
            worker = self.workers.get(call.chat)
            if worker is None or worker.done():
                self.workers[call.chat] = asyncio.create_task(self._drain(call.chat))

    @property
    def busy(self) -> bool:
        return any(not w.done() for w in self.workers.values())

    async def wait_idle(self, timeout: float) -> None:
        pending = [w for w in self.workers.values() if not w.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def stop(self) -> None:
        self.stopping = True
        for worker in self.workers.values():
            worker.cancel()
        await asyncio.gather(*self.workers.values(), return_exceptions=True)

    async def _drain(self, chat: str) -> None:
        queue = self.queues[chat]
        while queue and not self.stopping:
            call = queue[0]
            before = await self.store.calls_before(call)
            if before is None:  # another worker still sends this chat's earlier messages: they go first
                await asyncio.sleep(ORDER_WAIT)
                continue
            if before:  # a stopped worker's earlier messages: taken over, sent first
                queue.extendleft(reversed(before))
                continue
            outcome = await self._deliver(call)
            if outcome == "blocked":
                queue.clear()
                await self.store.drop_calls(self.bot_id, chat)
                break
            queue.popleft()
            await self.store.call_done(call)
        if not queue:
            self.queues.pop(chat, None)

    async def _deliver(self, call: OutgoingCall) -> str:
        backoff = 0.5
        chat_id = int(call.params.get("chat_id", 0))
        who = self.pseudonyms.of(call.chat)
        while True:
            await self.pacer.acquire(chat_id)
            try:
                if not await self._call(call):
                    return "skipped"
                self.sent += 1
                return "sent"
            except RetryAfter as err:
                wait = retry_seconds(err.retry_after)
                metrics.throttled(self.bot_id, wait)
                log.warning("%s: Telegram asks to slow down (429) for %s: waiting %.1fs", self.bot_id, who, wait)
                # a group's own limit holds back only that group; any other 429, the whole bot
                self.pacer.pause(wait, chat_id if chat_id < 0 else None)
            except Forbidden:
                log.info("%s: %s blocked the bot or is gone (403): dropping what was queued", self.bot_id, who)
                await self.store.set_blocked(self.bot_id, call.chat, True, now=dt.datetime.now(dt.timezone.utc))
                if self.hooks is not None:
                    await self.hooks.person_gone(call.chat)
                return "blocked"
            except BadRequest as err:
                if any(reason in str(err.message).lower() for reason in HARMLESS):
                    return "ignored"
                log.error("%s: Telegram refused %s for %s (400): %s", self.bot_id, call.method, who, refusal_reason(err))
                metrics.refused(self.bot_id)
                if self.hooks is not None and "_handoff" in call.params and await self.hooks.refused(call, err):
                    continue
                if not (call.params.get("_apology") or call.params.get("_quiet")):
                    await self._apologise(call)
                return "refused"
            except (TimedOut, NetworkError) as err:
                metrics.network_error(self.bot_id)
                log.warning("%s: network trouble sending to %s (%s): retrying in %.1fs", self.bot_id, who, type(err).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except TelegramError as err:
                log.error("%s: %s failed for %s: %s", self.bot_id, call.method, who, type(err).__name__)
                return "refused"

    async def _call(self, call: OutgoingCall) -> bool:
        """Make the call; False if it turned out to have nothing left to do."""
        if self.hooks is not None and "_handoff" in call.params:
            prepared = await self.hooks.prepare(call)
            if prepared is None:
                return False
            params = prepared
        else:
            params = {k: v for k, v in call.params.items() if not k.startswith("_")}
        if call.method == "sendDocument":
            sent = await self._send_document(params)
            await self.store.remember_messages(self.bot_id, call.chat, [sent], now=dt.datetime.now(dt.timezone.utc))
            return True
        result = await self.bot.do_api_request(call.method, api_kwargs=params)
        if self.hooks is not None and "_place" in call.params:
            await self.hooks.sent(call, result)
        chat_id = params.get("chat_id")
        if (
            isinstance(result, dict) and "message_id" in result and isinstance(chat_id, int) and chat_id > 0
            and not call.params.get("_unrecorded")
        ):  # a message in a person's chat: /forget may delete it within 48 hours
            await self.store.remember_messages(self.bot_id, call.chat, [int(result["message_id"])], now=dt.datetime.now(dt.timezone.utc))
        return True

    async def _send_document(self, params: dict[str, Any]) -> int:
        """Send a document from knowledge/ (uploaded once, then by file_id); its message id."""
        relative = params["document"]["path"]
        path = (self.knowledge / relative).resolve()
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        known = await self.store.file_id(self.bot_id, relative, digest)
        if known:
            return (await self.bot.send_document(chat_id=params["chat_id"], document=known)).message_id
        message: Message = await self.bot.send_document(chat_id=params["chat_id"], document=content, filename=path.name)
        if message.document is not None:
            await self.store.remember_file_id(self.bot_id, relative, digest, message.document.file_id)
        return message.message_id

    async def _apologise(self, failed: OutgoingCall) -> None:
        apology = OutgoingCall(
            id=uuid.uuid4().hex,
            bot=self.bot_id,
            chat=failed.chat,
            seq=failed.seq,
            method="sendMessage",
            params={
                "chat_id": failed.params.get("chat_id"),
                "text": self.apology(failed.params.get("_lang")),
                "_apology": True,
            },
        )
        await self.store.commit_step(None, None, update=None, calls=[apology], now=dt.datetime.now(dt.timezone.utc))
        self.queues.setdefault(failed.chat, deque()).insert(1, apology)


def refusal_reason(err: BadRequest) -> str:
    """Telegram's reason without anything quoted from the message itself: the first clause,
    without any word that holds a digit, a quote or a handle, at most six words."""
    clause = str(err.message).split(":", 1)[0]
    words = [w for w in clause.split() if not any(c.isdigit() or c in "\"'@#<>&" for c in w)]
    return " ".join(words[:6]) or "Bad Request"
