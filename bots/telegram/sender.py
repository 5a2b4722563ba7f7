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
import functools
import hashlib
import logging
import uuid
from collections import deque
from collections.abc import Callable, Sequence
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

from bots.calls import Delivery
from bots.engine.texts import BUILTIN
from bots.privacy.pseudonyms import Pseudonyms
from bots.storage import OutgoingCall, SQLStore
from bots.storage.outcome import Outcome
from bots.telegram import metrics
from bots.telegram.lifecycle import Service
from bots.telegram.outage import until_written
from bots.telegram.pacing import Pacer
from bots.telegram.refused import REFUSED

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
ORDER_WAIT = 0.02
HARMLESS = ("message is not modified", "message to edit not found", "query is too old")
#: what `protect_content` applies to: every call that puts a message in a chat
PROTECTED = frozenset({"sendMessage", "sendDocument", "copyMessage", "sendPhoto", "sendVideo", "sendAudio", "sendVoice"})


class CallHooks(Protocol):
    """What the moderators' desk adds to sending (see `bots.telegram.desk`)."""

    async def prepare(self, call: OutgoingCall) -> dict[str, Any] | None: ...

    async def sent(self, call: OutgoingCall, result: Any) -> None: ...

    async def refused(self, call: OutgoingCall, err: BadRequest) -> bool: ...

    async def person_gone(self, chat: str) -> None: ...


def retry_seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Sender(Service):
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
        protect: bool = False,
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
        #: the bot's `protect_content`: what it sends cannot be forwarded or saved
        self.protect = protect
        self._in_flight: set[str] = set()  # chats whose call is with Telegram right now
        self._exiting: set[str] = set()  # chats whose quick exit is being sent
        self._paused = False  # a 429 paused all of this bot's sending: the next send says it resumes

    def enqueue(self, calls: Sequence[OutgoingCall], *, first: bool = False) -> None:
        """Queue calls for their chats, after what is queued (or, `first`, before it, but for
        a call with Telegram this instant: calls taken over from a stopped worker are older
        than this worker's own)."""
        for chat in {c.chat for c in calls if c.delivery.urgent}:
            self._jump_queue(chat)
        for chat in dict.fromkeys(c.chat for c in calls):
            queue = self.queues.setdefault(chat, deque())
            mine = [c for c in calls if c.chat == chat]
            if first:
                at = 1 if chat in self._in_flight and queue else 0
                for offset, call in enumerate(mine):
                    queue.insert(at + offset, call)
            else:
                queue.extend(mine)
            worker = self.workers.get(chat)
            if worker is None or worker.done():
                self.workers[chat] = asyncio.create_task(self._drain(chat))

    def _jump_queue(self, chat: str) -> None:
        """A quick exit: what was queued for the chat is dropped (its journal rows are gone
        with the person) and its worker, unless a call is with Telegram this instant, stops
        waiting, so that the exit's calls go first."""
        self._exiting.add(chat)
        queue = self.queues.get(chat)
        if queue is not None:
            queue.clear()
        worker = self.workers.get(chat)
        if worker is not None and not worker.done() and chat not in self._in_flight:
            worker.cancel()
            self.workers.pop(chat, None)
            self.queues.pop(chat, None)

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
            before = await until_written(functools.partial(self.store.calls_before, call), f"{self.bot_id}: sending", write=False)
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
            if queue and queue[0] is call:  # (a quick exit may have replaced the queue meanwhile)
                queue.popleft()
            # sent: marked done whatever the database's trouble, or it would be sent again
            await until_written(functools.partial(self.store.call_done, call), f"{self.bot_id}: a sent call")
        if not queue:
            self.queues.pop(chat, None)
            self._exiting.discard(chat)

    async def _deliver(self, call: OutgoingCall) -> str:
        backoff = 0.5
        chat_id = call.chat_id
        who = self.pseudonyms.of(call.chat)
        urgent = call.delivery.urgent
        while True:
            await self.pacer.acquire(chat_id, urgent=urgent)
            try:
                if not await self._call(call):
                    return "skipped"
                self.sent += 1
                if self._paused:
                    self._paused = False
                    log.warning("%s: sending resumes after Telegram's pause (429)", self.bot_id)
                return "sent"
            except RetryAfter as err:
                wait = retry_seconds(err.retry_after)
                metrics.throttled(self.bot_id, wait)
                log.warning(
                    "%s: Telegram asks to slow down (429) for %s: waiting %.1fs%s",
                    self.bot_id,
                    who,
                    wait,
                    f" (until {dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=wait):%H:%M:%S} UTC): "
                    "what people send is still recorded, the other bots go on"
                    if wait >= 60
                    else "",
                )
                self._paused = self._paused or chat_id >= 0
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
                if self.hooks is not None and call.delivery.handoff is not None and await self.hooks.refused(call, err):
                    continue
                if not (call.delivery.apology or call.delivery.quiet):
                    await self._apologise(call)
                return "refused"
            except REFUSED:  # the token refused: the call waits for it to work again (see refused.py)
                log.warning("%s: the token was refused sending to %s: retrying in %.0fs", self.bot_id, who, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except (TimedOut, NetworkError) as err:
                metrics.network_error(self.bot_id)
                log.warning(
                    "%s: network trouble sending to %s (%s): retrying in %.1fs", self.bot_id, who, type(err).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except TelegramError as err:
                log.error("%s: %s failed for %s: %s", self.bot_id, call.method, who, type(err).__name__)
                return "refused"
            finally:
                if urgent:
                    self.pacer.release_urgent()

    async def _call(self, call: OutgoingCall) -> bool:
        """Make the call; False if it turned out to have nothing left to do."""
        if self.hooks is not None and call.delivery.handoff is not None:
            prepared = await self.hooks.prepare(call)
            if prepared is None:
                return False
            params = prepared
        else:
            params = dict(call.params)
        if self.protect and call.method in PROTECTED:
            params["protect_content"] = True
        self._in_flight.add(call.chat)
        try:
            return await self._make(call, params)
        finally:
            self._in_flight.discard(call.chat)

    async def _make(self, call: OutgoingCall, params: dict[str, Any]) -> bool:
        if call.method == "sendDocument":
            sent = await self._send_document(params)
            await self._remember(call, sent)
            return True
        result = await self.bot.do_api_request(call.method, api_kwargs=params)
        if self.hooks is not None and call.delivery.handoff is not None and call.delivery.handoff.place is not None:
            await self.hooks.sent(call, result)
        chat_id = params.get("chat_id")
        if (
            isinstance(result, dict)
            and "message_id" in result
            and isinstance(chat_id, int)
            and chat_id > 0
            and not call.delivery.unrecorded
        ):  # a message in a person's chat: /forget may delete it within 48 hours
            await self._remember(call, int(result["message_id"]))
        return True

    async def _remember(self, call: OutgoingCall, message_id: int) -> None:
        """Keep a person's chat's message for /forget, scheduled to vanish if the chat does
        (`Delivery.vanish`: seconds). A message that reached Telegram while the chat's quick exit was
        queued goes into the exit's deletion instead: nothing of the person is written."""
        if call.chat in self._exiting:
            deletion = next(
                (c for c in self.queues.get(call.chat, ()) if c.method == "deleteMessages" and c.delivery.urgent), None
            )
            if deletion is not None:
                deletion.params["message_ids"] = [*deletion.params["message_ids"], message_id]
                return
        seconds = call.delivery.vanish
        vanish = (call.chat_id, float(seconds)) if seconds else None
        await until_written(
            functools.partial(
                self.store.remember_messages,
                self.bot_id,
                call.chat,
                [message_id],
                now=dt.datetime.now(dt.timezone.utc),
                vanish=vanish,
                journalled=call.id,
            ),
            f"{self.bot_id}: a sent message",
        )

    async def _send_document(self, params: dict[str, Any]) -> int:
        """Send a document from knowledge/ (uploaded once, then by file_id); its message id."""
        relative = params["document"]["path"]
        path = (self.knowledge / relative).resolve()
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        known = await self.store.file_id(self.bot_id, relative, digest)
        protect = params.get("protect_content")
        if known:
            return (await self.bot.send_document(chat_id=params["chat_id"], document=known, protect_content=protect)).message_id
        message: Message = await self.bot.send_document(
            chat_id=params["chat_id"], document=content, filename=path.name, protect_content=protect
        )
        if message.document is not None:
            await until_written(
                functools.partial(self.store.remember_file_id, self.bot_id, relative, digest, message.document.file_id),
                f"{self.bot_id}: an uploaded file",
            )
        return message.message_id

    async def _apologise(self, failed: OutgoingCall) -> None:
        apology = OutgoingCall(
            id=uuid.uuid4().hex,
            bot=self.bot_id,
            chat=failed.chat,
            seq=failed.seq,
            method="sendMessage",
            params={"chat_id": failed.params.get("chat_id"), "text": self.apology(failed.delivery.lang)},
            delivery=Delivery(apology=True, lang=failed.delivery.lang, vanish=failed.delivery.vanish),
        )
        await self.store.commit(Outcome(calls=[apology]), now=dt.datetime.now(dt.timezone.utc))
        self.queues.setdefault(failed.chat, deque()).insert(1, apology)


def refusal_reason(err: BadRequest) -> str:
    """Telegram's reason without anything quoted from the message itself: the first clause,
    without any word that holds a digit, a quote or a handle, at most six words."""
    clause = str(err.message).split(":", 1)[0]
    words = [w for w in clause.split() if not any(c.isdigit() or c in "\"'@#<>&" for c in w)]
    return " ".join(words[:6]) or "Bad Request"
