"""The database cannot be written: said once, with what to do, and once when it is over.

A full disk, an I/O error or a lock held past the busy timeout hits every part of the
process at once (the pollers, the chats' turns, the sender's journal, the leases, the
heartbeat). Each part retries on its own with back-off; this module is where they report,
so that the operator reads one line saying what is wrong and what to do instead of a line
per part every two seconds, and one more when writes succeed again.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BACKOFF = 30.0
RESUME = "nothing unrecorded is confirmed to Telegram, and the bots resume by themselves when writes succeed again"


def is_database_error(err: BaseException) -> bool:
    """Whether `err` is the database's (SQLite's, or PostgreSQL's or its connection's)."""
    if isinstance(err, sqlite3.Error):
        return True
    return (type(err).__module__ or "").startswith("asyncpg") or isinstance(err, ConnectionError)


def advice(err: BaseException) -> str:
    """What is wrong and what to do, from SQLite's fixed messages (never the data)."""
    text = str(err).lower() if isinstance(err, sqlite3.Error) else ""
    if "full" in text:
        return "the disk holding the database is full: free space on it"
    if "locked" in text or "busy" in text:
        return (
            "another program holds the database locked longer than the busy timeout "
            "(a backup, bots forget, the sqlite3 shell): let it finish, or stop it"
        )
    if "i/o" in text:
        return "the database file cannot be written (disk I/O error): check that its disk has free space and works"
    if "readonly" in text or "read-only" in text:
        return "the database file is read-only: check its permissions and its disk"
    if isinstance(err, sqlite3.Error):
        return f"SQLite says {type(err).__name__}: check the database file and its disk"
    return f"the database server does not answer ({type(err).__name__}): check that it runs and can be reached"


class Outage:
    """Whether the database is failing now; the first failure and the recovery are logged."""

    def __init__(self) -> None:
        self.since: float | None = None

    def failed(self, err: BaseException, where: str) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.error("the database cannot be written: %s; %s", advice(err), RESUME)
        log.debug("%s: the database failed (%s)", where, type(err).__name__)

    def ok(self) -> None:
        if self.since is not None:
            log.warning("the database takes writes again (after %.0fs): the bots resume", time.monotonic() - self.since)
            self.since = None


DATABASE = Outage()


async def until_written(op: Callable[[], Awaitable[T]], where: str, *, write: bool = True) -> T:
    """`op` (a database write that must not be lost, such as marking a sent call done, or a
    read that must be made), tried again with back-off for as long as the database fails;
    other errors pass. Only a write that succeeds says that the database is back."""
    backoff = 0.5
    while True:
        try:
            result = await op()
        except Exception as err:
            if not is_database_error(err):
                raise
            DATABASE.failed(err, where)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        if write:
            DATABASE.ok()
        return result
