"""Per-chat flood control for one bot: pure bookkeeping, no I/O, no clock of its own.

`FloodGuard.check(chat)` is called once for every update of a private chat, before anything
else is done with it, and answers:

- `Verdict.ALLOW`: handle the update as usual;
- `Verdict.WARN`: this update is the first one over the limit: drop it and tell the person,
  once, to slow down;
- `Verdict.DROP`: the chat is paused: drop the update silently.

Rule: more than `limit` updates within any sliding `window` seconds (the window is half-open:
an update exactly `window` seconds old no longer counts) pauses the chat for `pause` seconds
from the update that went over. During the pause updates are dropped and **not counted**: they
neither extend the pause nor count towards the next one. A person whose client auto-repeats,
or who keeps tapping a button in frustration, is therefore never locked out for longer than
`pause`; once it has passed the chat starts afresh, with no count carried over (a flood that
goes on is warned again, at most once per `pause`).

Memory stays bounded however many distinct chats come and go. A chat needs remembering only
while one of its updates is still inside the window or while it is paused, so an entry idle
for `max(window, pause)` seconds is forgotten: it would behave exactly like a new chat.
Entries are kept in an `OrderedDict` ordered by their last update (every check moves its chat
to the end), so the idle ones are always at the front: each check first pops the idle entries
there. That is O(1) amortised per check (an entry is popped at most once per insertion) and,
unlike a periodic sweep over the whole dict, never costs O(number of chats) in one go for
nothing; the number of entries never exceeds the number of distinct chats seen within the
last `max(window, pause)` seconds (plus the ones idle since, until the next check). Limits
changed while running (`configure`, live reload) apply at once; a pause begun under longer
ones is kept to its end (idle chats are then forgotten after the longer pause).

Per chat the guard keeps a list of at most `limit + 1` update times (not a `deque`: an empty
`deque` alone takes about 760 bytes, a short list under 100, and most chats send a few
updates), the time of its last update and the end of its pause.

Chat keys are opaque strings that never leave the guard: `stats()` gives counts only, safe
to log. The guard is not thread-safe; it is meant for one bot's asyncio loop.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bots.storage.flood import Verdict, decide

__all__ = ["FloodGuard", "FloodStats", "Verdict", "decide"]


@dataclass(frozen=True)
class FloodStats:
    """Counts since the guard was made, for logs: never a chat key."""

    warned: int  # updates answered WARN (= pauses started)
    dropped: int  # updates answered DROP
    chats: int  # chats remembered right now

    def __str__(self) -> str:
        return f"flood: {self.warned} warned, {self.dropped} dropped, {self.chats} chat(s) tracked"


class _Chat:
    __slots__ = ("times", "seen", "until")

    def __init__(self) -> None:
        self.times: list[float] = []  # the latest update times, oldest first, at most limit + 1
        self.seen = -math.inf  # the time of the last update (dropped ones too)
        self.until = -math.inf  # paused while the clock is below this


class FloodGuard:
    """Flood control for the private chats of one bot (see the module's docstring)."""

    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        pause: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._chats: OrderedDict[str, _Chat] = OrderedDict()
        self._warned = 0
        self._dropped = 0
        self.idle = 0.0
        self.configure(limit, window, pause)

    def configure(self, limit: int, window: float, pause: float) -> None:
        """New limits (a changed `flood:` in bot.yaml, live): what each chat sent recently
        counts under them at once; a pause already running ends when it was going to."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if not window > 0:
            raise ValueError(f"window must be a positive number of seconds, not {window}")
        if not pause > 0:
            raise ValueError(f"pause must be a positive number of seconds, not {pause}")
        self.limit = limit
        self.window = float(window)
        self.pause = float(pause)
        # an entry idle this long is forgotten; never sooner than a pause begun under the
        # earlier limits ends
        self.idle = max(self.window, self.pause, self.idle if self._chats else 0.0)
        for entry in self._chats.values():  # at most `limit` times kept between checks
            del entry.times[:-limit]

    def check(self, chat: str) -> Verdict:
        """The verdict on one incoming update of `chat`; call it once per update."""
        now = self._clock()
        self._forget_idle(now)
        entry = self._chats.get(chat)
        if entry is None:
            entry = self._chats[chat] = _Chat()
        else:
            self._chats.move_to_end(chat)
        entry.seen = now
        verdict, entry.until = decide(entry.times, entry.until, now, self.limit, self.window, self.pause)
        if verdict is Verdict.DROP:
            self._dropped += 1
        elif verdict is Verdict.WARN:
            self._warned += 1
        return verdict

    def paused(self, chat: str) -> bool:
        """Whether updates of `chat` are being dropped right now (records nothing)."""
        entry = self._chats.get(chat)
        return entry is not None and self._clock() < entry.until

    def stats(self) -> FloodStats:
        return FloodStats(warned=self._warned, dropped=self._dropped, chats=len(self._chats))

    def _forget_idle(self, now: float) -> None:
        # entries are ordered by `seen` (every check moves its chat to the end), so the idle
        # ones are at the front; an entry idle for `idle` seconds has no update left inside
        # the window and no pause left: forgetting it changes no verdict
        chats = self._chats
        horizon = now - self.idle
        while chats:
            oldest = next(iter(chats.values()))
            if oldest.seen > horizon:
                break
            chats.popitem(last=False)
