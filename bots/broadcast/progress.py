"""The progress of a broadcast on stderr: a bar on a terminal, a line now and then otherwise."""

from __future__ import annotations

import collections
import sys
import time
from typing import TextIO


class Progress:
    """`[#####.....] 1234/10000  28.9/s` redrawn on a terminal; a plain line every
    `every` seconds otherwise (a log file, a pipe)."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, every: float = 10.0, label: str = "") -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = every
        self.label = label
        self.total = 0
        self.marks: collections.deque[tuple[float, int]] = collections.deque()
        self.shown_at = 0.0
        self.drawn = False

    def start(self, total: int, done: int) -> None:
        self.total = total
        self.marks.clear()
        self.marks.append((time.monotonic(), done))
        self.update(done, force=True)

    def rate(self, now: float, done: int) -> float:
        """Messages per second over the last ten seconds (since the start, before that)."""
        while len(self.marks) > 1 and now - self.marks[1][0] >= 10.0:
            self.marks.popleft()
        first_time, first_done = self.marks[0]
        return (done - first_done) / (now - first_time) if now > first_time else 0.0

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.marks or now - self.marks[-1][0] >= 0.5:
            self.marks.append((now, done))
        if not force and now - self.shown_at < (0.2 if self.tty else self.every):
            return
        self.shown_at = now
        rate = self.rate(now, done)
        if self.tty:
            filled = int(self.WIDTH * done / self.total) if self.total else self.WIDTH
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {done}/{self.total}  {rate:.1f}/s ")
            self.drawn = True
        else:
            self.stream.write(f"{self.label}{done}/{self.total} done, {rate:.1f}/s\n")
        self.stream.flush()

    def finish(self, done: int) -> None:
        self.update(done, force=True)
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
