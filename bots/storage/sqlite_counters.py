"""Aggregate counters for reports: per bot, per day, a number per (name, key). Nothing in
them can be traced to a person: no chat, no time finer than the day (see `bots report`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

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
