"""Telegram's pace: about 30 messages/s per bot, about 1/s per private chat (short bursts
pass), 20/min per group. Token buckets, awaited before each call; a 429 pauses everything.

An urgent call (the quick exit's deletions) waits only for a 429's pause, never for the
buckets, and while one waits or is being made the other calls hold back: when the pause ends
it goes first, whatever else was queued."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float | None = None  # full until first used
    updated: float = field(default=0.0)

    def delay(self, now: float) -> float:
        """Take a token; how long to wait before using it."""
        if self.tokens is None:
            self.tokens, self.updated = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class Pacer:
    """Spaces one bot's calls. Buckets of idle chats are forgotten."""

    def __init__(
        self,
        *,
        per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        chat_burst: float = 5.0,
        per_group_per_minute: float = 20.0,
        group_burst: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ) -> None:
        self.clock = clock
        self.enabled = enabled
        self.global_bucket = Bucket(per_second, max(1.0, per_second))
        self.chat_rate = (per_chat_per_second, chat_burst)
        self.group_rate = (per_group_per_minute / 60.0, group_burst)
        self.chats: dict[int, Bucket] = {}
        self.paused_until = 0.0
        self.chat_paused: dict[int, float] = {}
        self.urgent = 0  # urgent calls waiting or being made (see `acquire`)
        self._no_urgent: asyncio.Event | None = None

    def pause(self, seconds: float, chat_id: int | None = None) -> None:
        """Telegram said 429: nothing is sent by this bot (or to `chat_id` only) for `seconds`."""
        until = self.clock() + seconds
        if chat_id is None:
            self.paused_until = max(self.paused_until, until)
        else:
            self.chat_paused[chat_id] = max(self.chat_paused.get(chat_id, 0.0), until)

    def _bucket(self, chat_id: int) -> Bucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            if len(self.chats) > 50_000:
                self._forget_idle()
            rate, burst = self.group_rate if chat_id < 0 else self.chat_rate
            bucket = self.chats[chat_id] = Bucket(rate, burst)
        return bucket

    def _forget_idle(self) -> None:
        now = self.clock()
        for chat_id in [c for c, b in self.chats.items() if now - b.updated > 120]:
            del self.chats[chat_id]

    async def acquire(self, chat_id: int, *, urgent: bool = False) -> None:
        """Wait for this call's turn. An `urgent` one waits only for a 429's pause, and holds
        every other call back until `release_urgent()` (after the call was made)."""
        if urgent:
            self.urgent += 1
            if self._no_urgent is None:
                self._no_urgent = asyncio.Event()
            self._no_urgent.clear()
            try:
                paused = max(self.paused_until, self.chat_paused.get(chat_id, 0.0)) - self.clock()
                if paused > 0:
                    await asyncio.sleep(paused)
            except BaseException:
                self.release_urgent()
                raise
            return
        await self._paced(chat_id)
        while self.urgent and self._no_urgent is not None:
            await self._no_urgent.wait()
            paused = max(self.paused_until, self.chat_paused.get(chat_id, 0.0)) - self.clock()
            if paused > 0:  # the urgent call met a 429 of its own
                await asyncio.sleep(paused)

    def release_urgent(self) -> None:
        """An urgent call was made (or given up): the others may go when none is left."""
        self.urgent = max(0, self.urgent - 1)
        if not self.urgent and self._no_urgent is not None:
            self._no_urgent.set()

    async def _paced(self, chat_id: int) -> None:
        now = self.clock()
        paused = max(self.paused_until, self.chat_paused.get(chat_id, 0.0)) - now
        if paused <= 0 and chat_id in self.chat_paused:
            del self.chat_paused[chat_id]
        if not self.enabled:  # only a 429 slows us down
            wait = paused
        else:
            wait = max(self._bucket(chat_id).delay(now), self.global_bucket.delay(now), paused)
        if wait > 0:
            await asyncio.sleep(wait)
