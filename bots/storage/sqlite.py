"""The default store: one SQLite file, in WAL mode, through aiosqlite."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import aiosqlite

from bots.engine.state import ConversationState
from bots.storage.base import ConversationKey, ConversationStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (bot, chat)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversations_idle ON conversations (bot, updated_at);
"""


class SQLiteConversationStore(ConversationStore):
    """Conversations in a SQLite file.

    WAL with `synchronous=NORMAL`: a committed step survives the process being killed at
    any moment; after a power cut the last few steps may be lost but the file is never
    corrupt. Pass `synchronous="FULL"` to trade speed for power-cut durability too.
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        super().__init__()
        self.path = Path(path)
        self.synchronous = synchronous
        self._db: aiosqlite.Connection | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not initialized: use 'async with store' or call initialize()")
        return self._db

    async def initialize(self) -> None:
        if self._db is not None:
            return
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # created private, before anything is written to it
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute(f"PRAGMA synchronous={self.synchronous}")
        await self._db.execute("PRAGMA busy_timeout=5000")
        await self._db.executescript(SCHEMA)
        await self._db.commit()
        # only the owner may read conversations, even on a shared machine
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                os.chmod(candidate, 0o600)

    async def shutdown(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def load(self, key: ConversationKey) -> ConversationState | None:
        async with self.db.execute(
            "SELECT state FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat)
        ) as cursor:
            row = await cursor.fetchone()
        return ConversationState.from_json(row[0]) if row else None

    async def save(self, key: ConversationKey, state: ConversationState, *, now: dt.datetime) -> None:
        await self.db.execute(
            "INSERT INTO conversations (bot, chat, state, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (bot, chat) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (key.bot, key.chat, state.to_json(), now.timestamp()),
        )
        await self.db.commit()

    async def delete(self, key: ConversationKey) -> bool:
        cursor = await self.db.execute("DELETE FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat))
        await self.db.commit()
        return cursor.rowcount > 0

    async def purge_idle(self, bot: str, *, before: dt.datetime) -> int:
        cursor = await self.db.execute(
            "DELETE FROM conversations WHERE bot = ? AND updated_at < ?", (bot, before.timestamp())
        )
        await self.db.commit()
        return cursor.rowcount

    async def count(self, bot: str) -> int:
        async with self.db.execute("SELECT COUNT(*) FROM conversations WHERE bot = ?", (bot,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
