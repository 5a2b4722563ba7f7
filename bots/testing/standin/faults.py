"""Fault injection, optional Telegram-like rate limits, and the log of received calls."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from bots.testing.standin.errors import ApiError, error_for_status, too_many_requests


@dataclass(slots=True)
class Fault:
    """One injected fault: matching calls fail with ``status`` (or are only delayed).

    ``times`` is how many more calls it hits (None: until cleared); ``delay`` seconds are
    waited before answering (with the fault, or normally when ``status`` is None).
    """

    method: str  # lower-cased method name, or "*" for any method
    status: int | None = 429
    description: str | None = None
    retry_after: int | None = None
    times: int | None = 1
    chat_id: int | str | None = None
    bot_id: int | None = None
    delay: float = 0.0

    def error(self) -> ApiError | None:
        """The error to answer with, if the fault has a status."""
        if self.status is None:
            return None
        return error_for_status(self.status, self.description, self.retry_after)


class FaultInjector:
    """Holds injected faults; ``match`` is O(faults for that method) and free when none are set."""

    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}

    def add(self, fault: Fault) -> Fault:
        """Register a fault (matched in the order added)."""
        self._faults.setdefault(fault.method, []).append(fault)
        return fault

    def clear(self, method: str | None = None) -> None:
        """Drop all faults, or those of one method."""
        if method is None:
            self._faults.clear()
        else:
            self._faults.pop(method.lower(), None)

    def __bool__(self) -> bool:
        return bool(self._faults)

    def match(self, method: str, bot_id: int, chat_id: Any) -> Fault | None:
        """The first fault hitting this call, consuming one of its ``times``."""
        for key in (method, "*"):
            faults = self._faults.get(key)
            if not faults:
                continue
            for fault in faults:
                if fault.bot_id is not None and fault.bot_id != bot_id:
                    continue
                if fault.chat_id is not None and fault.chat_id != chat_id:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        faults.remove(fault)
                        if not faults:
                            del self._faults[key]
                return fault
        return None


class _Window:
    __slots__ = ("limit", "period", "stamps")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        stamps = self.stamps
        while stamps and stamps[0] <= now - self.period:
            stamps.popleft()
        if len(stamps) < self.limit:
            return 0.0
        return stamps[0] + self.period - now


class RateLimiter:
    """Sliding-window limits on message sending, answered with 429 like Telegram's flood control.

    Off until :meth:`configure` sets at least one limit.
    """

    def __init__(self) -> None:
        self.per_bot: float | None = None
        self.per_chat: float | None = None
        self.per_group_minute: float | None = None
        self._windows: dict[tuple[str, Any], _Window] = {}

    @property
    def enabled(self) -> bool:
        """Whether any limit is set."""
        return bool(self.per_bot or self.per_chat or self.per_group_minute)

    def configure(
        self,
        per_bot_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = None,
    ) -> None:
        """Set the limits (None disables one) and forget past sends."""
        self.per_bot = per_bot_per_second
        self.per_chat = per_chat_per_second
        self.per_group_minute = per_group_per_minute
        self._windows.clear()

    def _window(self, key: tuple[Any, ...], limit: float, period: float) -> _Window:
        win = self._windows.get(key)
        if win is None:
            win = self._windows[key] = _Window(max(1, int(limit)), period)
        return win

    def check(self, bot_id: int, chat_id: int, is_group: bool) -> None:
        """Record one send, or raise 429 with the seconds until it would be allowed."""
        now = time.monotonic()
        windows: list[_Window] = []
        if self.per_bot:
            windows.append(self._window(("bot", bot_id), self.per_bot, 1.0))
        if is_group and self.per_group_minute:
            windows.append(self._window(("group", bot_id, chat_id), self.per_group_minute, 60.0))
        elif not is_group and self.per_chat:
            windows.append(self._window(("chat", bot_id, chat_id), self.per_chat, 1.0))
        wait = max((w.wait(now) for w in windows), default=0.0)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for w in windows:
            w.stamps.append(now)


@dataclass(frozen=True, slots=True)
class Call:
    """A Bot API call the stand-in received: method (canonical name), decoded params, outcome."""

    method: str
    params: dict[str, Any]
    bot_id: int
    time: float
    status: int = 200

    def __iter__(self):  # allows ``method, params = call``
        return iter((self.method, self.params))


class CallLog:
    """Bounded log of received calls (``maxlen`` 0 disables logging, e.g. for benchmarks)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self.enabled = maxlen > 0
        self.calls: deque[Call] = deque(maxlen=maxlen or 1)
        self.total = 0

    def record(self, call: Call) -> None:
        """Append a call (oldest dropped beyond ``maxlen``)."""
        self.total += 1
        if self.enabled:
            self.calls.append(call)
