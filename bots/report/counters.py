"""Reading the `counters` table (see `bots.storage.sql_counters`) read-only (plain
`sqlite3` for a file): the counters are not secret, so no key is needed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from bots.errors import BotsError
from bots.report.period import Period
from bots.storage.database import DatabaseUnavailable, PostgresDatabase, is_postgres_url

Counts = dict[tuple[str, str], float]  # (name, key) -> value summed over the period


class ReportError(BotsError):
    """The counters cannot be read; the message says why, in one line."""


def read_counters(db: Path | str, period: Period, bots: Sequence[str]) -> dict[str, Counts]:
    """The counters of `bots` summed over `period`, by bot, from a SQLite file or a
    postgresql:// URL."""
    if isinstance(db, str) and is_postgres_url(db):
        return asyncio.run(_read_postgres(db, period, bots))
    db = Path(db)
    if not db.is_file():
        raise ReportError(
            f"{db}: no such database; the counters are in the database the bots run with (--db, $BOTS_DB or ./bots.db)"
        )
    try:
        connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise ReportError(f"{db}: cannot open the database: {err}") from None
    try:
        found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counters'").fetchone()
        if found is None:
            raise ReportError(
                f"{db}: no counters in this database (it has no 'counters' table): the bots have not counted anything here yet"
            )
        rows = connection.execute(
            f"SELECT bot, name, key, SUM(value) FROM counters WHERE day >= ? AND day <= ? AND bot IN ({', '.join('?' * len(bots))}) "
            "GROUP BY bot, name, key",
            [period.since.isoformat(), period.until.isoformat(), *bots],
        ).fetchall()
    except sqlite3.Error as err:  # not a database, locked, ...
        raise ReportError(f"{db}: cannot read the counters: {err}") from None
    finally:
        connection.close()
    counts: dict[str, Counts] = {}
    for bot, name, key, value in rows:
        counts.setdefault(bot, {})[(name, key)] = float(value or 0)
    return counts


async def _read_postgres(url: str, period: Period, bots: Sequence[str]) -> dict[str, Counts]:
    database = PostgresDatabase(url, min_size=1, max_size=1)
    try:
        await database.open()
    except DatabaseUnavailable as err:
        raise ReportError(str(err)) from None
    try:
        if "counters" not in await database.tables():
            raise ReportError(f"{database.where}: no counters in this database: the bots have not counted anything here yet")
        rows = await database.fetchall(
            f"SELECT bot, name, key, SUM(value) FROM counters WHERE day >= ? AND day <= ? AND bot IN ({', '.join('?' * len(bots))}) "
            "GROUP BY bot, name, key",
            [period.since.isoformat(), period.until.isoformat(), *bots],
        )
    finally:
        await database.close()
    counts: dict[str, Counts] = {}
    for bot, name, key, value in rows:
        counts.setdefault(bot, {})[(name, key)] = float(value or 0)
    return counts
