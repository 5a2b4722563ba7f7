"""Aggregate counters for reports: per bot, per day, a number per (name, key). Nothing in
them can be traced to a person: no chat, no time finer than the day (see `bots report`)."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from typing import Any

from bots.storage.database import Database

ADD = (
    "INSERT INTO counters (bot, day, name, key, value) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (bot, day, name, key) DO UPDATE SET value = counters.value + excluded.value"
)

#: (name, key, value)
Count = tuple[str, str, float]


def counter_statements(bot: str, now: dt.datetime, counts: Sequence[Count]) -> list[tuple[str, tuple[Any, ...]]]:
    day = now.astimezone(dt.timezone.utc).date().isoformat()
    return [(ADD, (bot, day, name, key, value)) for name, key, value in counts]


class SQLCounters(abc.ABC):
    """Mixed into the SQL store, which provides `database` and `_write`."""

    database: Database

    @abc.abstractmethod
    async def _write(self, statements: list[tuple[str, tuple[Any, ...]]], *, alone: bool = False) -> None: ...

    async def add_counts(self, bot: str, counts: Sequence[Count], *, now: dt.datetime) -> None:
        """Add to today's aggregate counters (see `bots.storage.sql_counters`)."""
        if counts:
            await self._write(counter_statements(bot, now, counts))

    async def counters(self, bot: str) -> dict[tuple[str, str, str], float]:
        """Every counter of a bot: (day, name, key) -> value."""
        return {
            (row[0], row[1], row[2]): float(row[3])
            for row in await self.database.fetchall("SELECT day, name, key, value FROM counters WHERE bot = ?", (bot,))
        }
