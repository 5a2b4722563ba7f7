"""The database as the tests' bots write it: their secret key, a store opened with it, and the
rows a person's chat left in it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.privacy.vault import Vault, parse_key
from bots.storage import SQLStore, store_at

SECRET_KEY = "Qm90cyB0ZXN0IGtleTogMzIgYnl0ZXMgb2Ygbm90aGluZyE"  # the tests' own; never use it for real

#: the tables whose rows name a chat (by its keyed id)
TABLES_WITH_CHATS = ("conversations", "updates", "outbox", "blocked_chats", "handoffs", "messages", "subscribers")


def vault() -> Vault:
    """The vault of SECRET_KEY, the key the tests' `bots` processes are given."""
    return Vault(parse_key(SECRET_KEY))


def chat_key(chat_id: int, bot: str = "demo") -> str:
    """How the database names a chat of `bot` (never by its Telegram id)."""
    return vault().chat_key(bot, chat_id)


def keyed_store(location: str | Path) -> SQLStore:
    """The store at `location` (a SQLite file or a PostgreSQL URL) with the tests' key:
    `async with keyed_store(db) as store: ...`."""
    return store_at(str(location), vault())


def rows_about(db: Path, key: str, tables: tuple[str, ...] = TABLES_WITH_CHATS) -> dict[str, int]:
    """How many rows of each table of a SQLite file name the chat `key` (read while the bots run)."""
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table} WHERE chat = ?", (key,)).fetchone()[0] for table in tables}


async def rows_about_in(location: str, key: str, tables: tuple[str, ...] = TABLES_WITH_CHATS) -> dict[str, int]:
    """The same for any database (PostgreSQL too), through the store."""
    async with keyed_store(location) as store:
        return {
            table: int(await store.database.fetchval(f"SELECT COUNT(*) FROM {table} WHERE chat = ?", (key,))) for table in tables
        }


def settled(db: Path, bot: str = "demo") -> bool:
    """In a SQLite file the bots run on: every update they recorded is processed and every call
    they recorded is sent. With every update confirmed to the stand-in too, nothing more is on its
    way from what came in so far: a barrier for "nothing was sent"."""
    with sqlite3.connect(db) as conn:
        waiting = conn.execute("SELECT COUNT(*) FROM updates WHERE bot = ? AND payload IS NOT NULL", (bot,)).fetchone()[0]
        queued = conn.execute("SELECT COUNT(*) FROM outbox WHERE bot = ?", (bot,)).fetchone()[0]
    return waiting == 0 and queued == 0


def everything_on_disk(db: Path) -> bytes:
    """The SQLite file and its journals, as someone who copies them would have them."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
