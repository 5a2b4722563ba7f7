"""Aggregate counters for reports: per bot, per day, a number per (name, key). Nothing in
them can be traced to a person: no chat, no time finer than the day (see `bots report`)."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from typing import Any

import aiosqlite

COUNTERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    bot   TEXT NOT NULL,
    day   TEXT NOT NULL,
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (bot, day, name, key)
) WITHOUT ROWID;
"""
ADD = (
    "INSERT INTO counters (bot, day, name, key, value) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (bot, day, name, key) DO UPDATE SET value = value + excluded.value"
)

#: (name, key, value)
Count = tuple[str, str, float]


def counter_statements(bot: str, now: dt.datetime, counts: Sequence[Count]) -> list[tuple[str, tuple[Any, ...]]]:
    day = now.astimezone(dt.timezone.utc).date().isoformat()
    return [(ADD, (bot, day, name, key, value)) for name, key, value in counts]


class SQLiteCounters(abc.ABC):
    """Mixed into the SQLite store, which provides `db` and `_write`."""

    @property
    @abc.abstractmethod
    def db(self) -> aiosqlite.Connection: ...

    @abc.abstractmethod
    async def _write(self, statements: list[tuple[str, tuple[Any, ...]]], *, alone: bool = False) -> None: ...

    async def add_counts(self, bot: str, counts: Sequence[Count], *, now: dt.datetime) -> None:
        """Add to today's aggregate counters (see `bots.storage.sqlite_counters`)."""
        if counts:
            await self._write(counter_statements(bot, now, counts))

    async def counters(self, bot: str) -> dict[tuple[str, str, str], float]:
        """Every counter of a bot: (day, name, key) -> value."""
        async with self.db.execute("SELECT day, name, key, value FROM counters WHERE bot = ?", (bot,)) as cursor:
            return {(row[0], row[1], row[2]): float(row[3]) async for row in cursor}
