"""The resumable sender: one news file to one bot's subscribers, at Telegram's pace, never twice.

Each message: wait for the pace (29.5 messages/s, just under Telegram's 30 per bot), mark the
delivery `sending` (committed before anything goes out), send, then mark it `sent`, `blocked`
(403: the person is unsubscribed too) or `failed` (400). A 429 pauses the bot for
`retry_after` and sends the same message again; a network error that certainly happened
before the request left (no connection) is retried with back-off. A delivery still `sending`
when a run starts was in flight when an earlier run died: it may have arrived, so it is never
sent again and is reported as "not resent after a crash" (at most once, never twice).
Likewise a request that timed out after it left is not retried ("not resent after a network
error").

Only one process sends a broadcast at a time (its row names the owner; a dead owner's claim
is taken over). Once nothing is left to send, the deliveries are deleted and only the counts
are kept, so no list of who got what lingers; the same file is then refused as already sent.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bots.broadcast.news import News
from bots.broadcast.progress import Progress
from bots.errors import BotsError
from bots.privacy.pseudonyms import Pseudonyms
from bots.storage.sql_messages import REMEMBER
from bots.storage.sql_news import (
    UNSUBSCRIBE,
    BroadcastRecord,
    Recipient,
    SQLNews,
    Statement,
)
from bots.storage.sqlite import SQLiteConversationStore
from bots.telegram.pacing import Bucket, Pacer
from bots.telegram.sender import refusal_reason, retry_seconds

log = logging.getLogger("bots.broadcast")

# Telegram allows 30 messages/s per bot, counted over any one second: a message that arrives
# a few milliseconds early (network and scheduling jitter) is answered with a 429 and a pause
# of a whole second (30 messages lost), so a long broadcast keeps just under the limit
PER_SECOND = 29.5
CONCURRENCY = 30  # messages in flight at once: enough to keep to the pace with slow answers
BATCH = 100  # deliveries read from the database at a time
HEARTBEAT = 10.0  # seconds between the owner's signs of life
STALE = 60.0  # an owner silent for this long is taken to be dead
MAX_BACKOFF = 30.0
# 400s that no recipient would escape: the text itself is refused, so stop at once
CONTENT_ERRORS = ("can't parse entities", "message is too long", "text must be non-empty")
# a transport error raised by one of these never sent the request: it is safe to send again
_NOT_SENT = {
    "ClientConnectorError",
    "ClientConnectorDNSError",
    "ClientProxyConnectionError",
    "ConnectionTimeoutError",
    "ConnectError",
    "ConnectTimeout",
    "PoolTimeout",
    "ConnectionRefusedError",
}

_LIVE: set[str] = set()  # owners of broadcasts running in this process

#: the SQLite store, which has the news tables (the name is kept for the tests and benchmarks)
NewsStore = SQLiteConversationStore


class BroadcastError(BotsError):
    """A broadcast cannot start or go on; the message says why and what to do."""


@dataclass
class Tally:
    """What became of a broadcast's deliveries (over every run of it). Each field but the
    last three is named after the delivery status it counts (`crashed`: still `sending`)."""

    total: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    crashed: int = 0  # in flight when an earlier run died: maybe delivered, never resent
    unsure: int = 0  # a network error once the request had left: maybe delivered, not resent
    gone: int = 0  # unsubscribed or forgotten before their turn
    pending: int = 0  # not sent yet (the run was stopped)
    finished: bool = False  # nothing is left to send: only the counts are kept
    already: bool = False  # it had finished before this run: nothing was sent
    rate_limited: int = 0  # 429s answered in this run (each waited for and sent again)

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.crashed + self.unsure + self.gone

    def line(self) -> str:
        parts = [f"sent {self.sent}", f"blocked {self.blocked}", f"failed {self.failed}"]
        if self.crashed:
            parts.append(f"not resent after a crash: {self.crashed}")
        if self.unsure:
            parts.append(f"not resent after a network error: {self.unsure}")
        if self.gone:
            parts.append(f"unsubscribed before their turn: {self.gone}")
        if self.pending:
            parts.append(f"not sent yet: {self.pending}")
        return ", ".join(parts)

    @classmethod
    def from_counts(cls, total: int, counts: dict[str, int]) -> Tally:
        return cls(
            total=total,
            sent=counts.get("sent", 0),
            blocked=counts.get("blocked", 0),
            failed=counts.get("failed", 0),
            crashed=counts.get("sending", 0),
            unsure=counts.get("unsure", 0),
            gone=counts.get("gone", 0),
            pending=counts.get("pending", 0),
        )


@dataclass
class Plan:
    """What a broadcast would do now (`--dry-run`)."""

    subscribers: int
    audience: dict[str, int]  # section language -> subscribers who would get it
    record: BroadcastRecord | None
    unfinished: list[BroadcastRecord]  # other broadcasts of the bot


def _never_sent(err: BaseException) -> bool:
    """Whether a network error happened before the request left (no connection, no free
    slot in the pool): only then is sending again sure not to deliver twice."""
    if "Request was *not* sent" in str(getattr(err, "message", "")):
        return True
    seen: BaseException | None = err.__cause__ or err.__context__
    while seen is not None:
        if any(kind.__name__ in _NOT_SENT for kind in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _owner_alive(owner: str) -> bool:
    """Whether the process named in a broadcast's `owner` may still be running."""
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: only its silence tells
    pid = int(pid_text)
    if pid == os.getpid():
        return owner in _LIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _being_sent(record: BroadcastRecord) -> bool:
    """Whether a live owner is sending the broadcast right now (a silent one is taken to be dead)."""
    return (
        record.owner is not None
        and _owner_alive(record.owner)
        and record.alive_at is not None
        and time.time() - record.alive_at <= STALE
    )


class Broadcast:
    """Sends one news file to one bot's subscribers. `run()` may be called again after a
    crash or a stop: it goes on with the people not reached yet."""

    def __init__(
        self,
        store: SQLNews,
        bot_id: str,
        news: News,
        bot: Bot | None = None,
        *,
        per_second: float = PER_SECOND,
        concurrency: int = CONCURRENCY,
        progress: Progress | None = None,
        drop_unfinished: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.bot_id = bot_id
        self.news = news
        self.bot = bot
        self.per_second = per_second
        self.concurrency = concurrency
        self.progress = progress
        self.drop_unfinished = drop_unfinished
        self.now = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.pacer = Pacer(per_second=per_second)
        # a broadcast keeps to the pace steadily: no burst at the start or after a pause, which
        # a limit counted over any one second would answer with a 429
        self.pacer.global_bucket = Bucket(per_second, 1.0)
        self.pseudonyms = Pseudonyms(bot_id, store.vault.pseudonym_key)
        self.tally = Tally()
        self.stop = asyncio.Event()
        self._error: str | None = None
        self._lock = asyncio.Lock()
        self._buffer: collections.deque[Recipient] = collections.deque()
        self._after = ""
        self._exhausted = False
        self._epoch = 0  # counts the 429 pauses: turns given out before the last one are void

    @property
    def digest(self) -> str:
        return self.news.digest

    async def plan(self) -> Plan:
        """Who would get which text, and what earlier runs did; nothing is written."""
        by_lang = await self.store.subscribers_by_lang(self.bot_id)
        audience: dict[str, int] = {lang: 0 for lang in self.news.sections}
        for lang, count in by_lang.items():
            audience[self.news.section_for(lang).lang] += count
        record = await self.store.broadcast_record(self.bot_id, self.digest)
        return Plan(sum(by_lang.values()), audience, record, await self._others())

    async def run(self, stop: asyncio.Event | None = None) -> Tally:
        """Send to everyone the broadcast is for and has not reached yet; the tally of the
        whole broadcast. Setting `stop` (or `self.stop`) ends it after the messages in flight.
        Raises `BroadcastError` if it cannot start or the text is refused."""
        if stop is not None:
            self.stop = stop
        store = self.store
        record = await store.broadcast_record(self.bot_id, self.digest)
        if record is not None and record.finished:
            self.tally = Tally.from_counts(record.total, record.counts)
            self.tally.finished = self.tally.already = True
            return self.tally
        await self._settle_others()
        if record is None:
            if not await store.subscriber_count(self.bot_id):
                raise BroadcastError(f"{self.bot_id}: nobody has subscribed to the news yet: nothing sent")
            await store.start_broadcast(self.bot_id, self.digest, now=self.now())
            record = await store.broadcast_record(self.bot_id, self.digest)
            if record is None:
                raise BroadcastError(f"{self.bot_id}: the database did not keep the broadcast just started: nothing sent")
        owner = await self._claim(record)
        try:
            return await self._run_owned(owner)
        finally:
            _LIVE.discard(owner)

    async def _others(self) -> list[BroadcastRecord]:
        """The bot's other broadcasts that are not finished."""
        return [r for r in await self.store.unfinished_broadcasts(self.bot_id) if r.digest != self.digest]

    async def _settle_others(self) -> None:
        """Refuse to start while another broadcast is unfinished, unless told to drop it."""
        others = await self._others()
        if not others:
            return
        if not self.drop_unfinished:
            other = others[0]
            done = sum(v for k, v in other.counts.items() if k != "pending")
            raise BroadcastError(
                f"{self.bot_id}: another message, started {other.started_at:%Y-%m-%d %H:%M} UTC, was not sent to everyone "
                f"({done} of {other.total} done): send that file again to finish it, or pass --drop-unfinished to give "
                "it up (if you edited the file after it started, its people would otherwise get both versions)"
            )
        for other in others:
            if _being_sent(other):
                raise BroadcastError(f"{self.bot_id}: another broadcast is being sent right now; wait until it ends")
            counts = await self.store.drop_broadcast(self.bot_id, other.digest, now=self.now())
            log.warning("%s: dropped an unfinished broadcast (%d sent)", self.bot_id, counts.get("sent", 0))

    async def _claim(self, record: BroadcastRecord) -> str:
        if _being_sent(record):
            silent = time.time() - (record.alive_at or 0.0)
            raise BroadcastError(
                f"{self.bot_id}: this message is being sent by another process right now (last heard of {silent:.0f}s ago); "
                f"wait for it to end, or stop it and start this again to go on (a process silent for {STALE:.0f}s is "
                "taken to be gone)"
            )
        owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        if not await self.store.claim_broadcast(
            self.bot_id, self.digest, owner, seen=(record.owner, record.alive_at), now=time.time()
        ):
            raise BroadcastError(f"{self.bot_id}: another process started sending this message just now")
        _LIVE.add(owner)
        return owner

    async def _run_owned(self, owner: str) -> Tally:
        store = self.store
        record = await store.broadcast_record(self.bot_id, self.digest)
        if record is None:  # gone between the claim and now (another process dropped it)
            raise BroadcastError(f"{self.bot_id}: the broadcast is no longer in the database: stopped")
        self.tally = Tally.from_counts(record.total, record.counts)
        if self.tally.crashed:
            log.warning(
                "%s: %d message(s) were in flight when an earlier run stopped: they may have arrived and are not sent again",
                self.bot_id,
                self.tally.crashed,
            )
        heartbeat = asyncio.create_task(self._heartbeat(owner))
        try:
            if self.tally.pending:
                await self._send_pending(owner)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
        # the run was not cancelled (a crash is simulated by cancelling): settle the record
        counts = await store.delivery_counts(self.bot_id, self.digest)
        self.tally = dataclasses.replace(Tally.from_counts(record.total, counts), rate_limited=self.tally.rate_limited)
        if self._error is not None or self.tally.pending:
            await store.release_broadcast(self.bot_id, self.digest, owner)
            if self._error is not None:
                raise BroadcastError(self._error)
            return self.tally
        await store.finish_broadcast(self.bot_id, self.digest, now=self.now())
        self.tally.finished = True
        return self.tally

    async def _send_pending(self, owner: str) -> None:
        """Start the bot, send until nothing is left (or `stop` is set), stop the bot."""
        try:
            await self._start_bot()
        except BroadcastError:
            await self.store.release_broadcast(self.bot_id, self.digest, owner)
            await self._stop_bot()
            raise
        if self.progress is not None:
            self.progress.start(self.tally.total, self.tally.done)
        try:
            async with asyncio.TaskGroup() as workers:
                for _ in range(max(1, self.concurrency)):
                    workers.create_task(self._worker())
        except ExceptionGroup as group:  # a worker failed (the database): that error, not a group
            raise group.exceptions[0] from None
        finally:
            if self.progress is not None:
                self.progress.finish(self.tally.done)
            await self._stop_bot()

    async def _start_bot(self) -> None:
        if self.bot is None:
            raise BroadcastError(f"{self.bot_id}: no bot to send with")
        try:
            await self.bot.initialize()
        except InvalidToken:
            raise BroadcastError(f"{self.bot_id}: Telegram refused the bot's token (401 Unauthorized)") from None
        except (NetworkError, TimedOut) as err:
            raise BroadcastError(f"{self.bot_id}: cannot reach the Bot API ({type(err).__name__})") from None
        except TelegramError as err:
            raise BroadcastError(f"{self.bot_id}: the Bot API refused to start the bot ({type(err).__name__})") from None

    async def _stop_bot(self) -> None:
        if self.bot is None:
            return
        try:
            await self.bot.shutdown()
        except Exception as err:  # noqa: BLE001 - the broadcast's own outcome matters more
            log.warning("%s: closing the connection to the Bot API failed (%s)", self.bot_id, type(err).__name__)

    async def _heartbeat(self, owner: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self.store.broadcast_alive(self.bot_id, self.digest, owner, now=time.time())
            except Exception as err:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("%s: could not record that the broadcast is alive (%s)", self.bot_id, type(err).__name__)

    async def _next(self) -> Recipient | None:
        async with self._lock:
            while not self._buffer and not self._exhausted:
                recipients, gone, last = await self.store.pending_recipients(
                    self.bot_id, self.digest, after=self._after, limit=BATCH
                )
                if gone:
                    await self.store.set_delivery(self.bot_id, self.digest, gone, "gone")
                    self.tally.gone += len(gone)
                    self.tally.pending -= len(gone)
                self._buffer.extend(recipients)
                self._after = last
                self._exhausted = not last
            return self._buffer.popleft() if self._buffer else None

    async def _worker(self) -> None:
        while not self.stop.is_set():
            recipient = await self._next()
            if recipient is None:
                return
            if not await self.store.is_subscribed(self.bot_id, recipient.chat):  # unsubscribed or forgotten meanwhile
                await self._settle(recipient, "gone")
                continue
            await self._deliver(recipient)

    async def _mark(self, person: Recipient, status: str, extra: Sequence[Statement] = ()) -> None:
        await self.store.set_delivery(self.bot_id, self.digest, [person.chat], status, extra=extra)

    async def _settle(self, person: Recipient, status: str, extra: Sequence[Statement] = ()) -> None:
        """Record what became of the delivery, and count it (the tally's field of that name)."""
        await self._mark(person, status, extra)
        setattr(self.tally, status, getattr(self.tally, status) + 1)
        self.tally.pending -= 1
        if self.progress is not None:
            self.progress.update(self.tally.done)

    async def _slot(self, chat_id: int) -> None:
        """Wait for this message's turn at the pace. A turn given out before a 429 is not
        used: the pace starts afresh when the pause ends (else every message already
        waiting would go out at once, or into the pause)."""
        while True:
            epoch = self._epoch
            await self.pacer.acquire(chat_id)
            if epoch == self._epoch and self.pacer.paused_until <= self.pacer.clock():
                return

    def _paused(self, seconds: float) -> None:
        self.pacer.pause(seconds)
        self._epoch += 1
        self.pacer.global_bucket = Bucket(self.per_second, 1.0, tokens=0.0, updated=self.pacer.paused_until)

    async def _deliver(self, person: Recipient) -> None:
        if self.bot is None:  # _start_bot refuses to start without one
            raise BroadcastError(f"{self.bot_id}: no bot to send with")
        bot_id = self.bot_id
        section = self.news.section_for(person.lang)
        params = {"chat_id": person.chat_id, "text": section.html, "parse_mode": "HTML"}
        who = self.pseudonyms.of(person.chat)
        marked = False
        backoff = 0.5
        while True:
            await self._slot(person.chat_id)
            if self.stop.is_set():
                if marked:  # it is known not to have left (a 429 or no connection): leave it for the next run
                    await self._mark(person, "pending")
                return
            if not marked:
                await self._mark(person, "sending")
                marked = True
            try:
                result = await self.bot.do_api_request("sendMessage", api_kwargs=params)
            except RetryAfter as err:
                wait = retry_seconds(err.retry_after)
                self.tally.rate_limited += 1
                log.info("%s: Telegram asks to slow down (429): waiting %.1fs", bot_id, wait)
                self._paused(wait)
                continue
            except Forbidden:
                log.info("%s: %s blocked the bot or is gone (403): unsubscribed", bot_id, who)
                await self._settle(person, "blocked", [(UNSUBSCRIBE, (bot_id, person.chat))])
                return
            except BadRequest as err:
                reason = refusal_reason(err)
                if any(text in str(err.message).lower() for text in CONTENT_ERRORS):
                    await self._mark(person, "pending")
                    if self._error is None:
                        self._error = (
                            f"{bot_id}: Telegram refuses the '{section.lang}' text ({reason}); nothing more is sent: "
                            f"fix {self.news.path} and send it again"
                        )
                    self.stop.set()
                    return
                log.error("%s: Telegram refused the news for %s (400): %s", bot_id, who, reason)
                await self._settle(person, "failed")
                return
            except (TimedOut, NetworkError) as err:
                if _never_sent(err):
                    log.warning("%s: cannot reach the Bot API (%s): retrying in %.1fs", bot_id, type(err).__name__, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                log.warning(
                    "%s: network error after sending to %s (%s): it may have arrived, so it is not sent again",
                    bot_id,
                    who,
                    type(err).__name__,
                )
                await self._settle(person, "unsure")
                return
            except TelegramError as err:
                log.error("%s: sending the news to %s failed: %s", bot_id, who, type(err).__name__)
                await self._settle(person, "failed")
                return
            extra = []
            if isinstance(result, dict) and "message_id" in result:  # /forget may delete it within 48 hours
                extra.append((REMEMBER, (bot_id, person.chat, int(result["message_id"]), self.now().timestamp())))
            await self._settle(person, "sent", extra)
            return
