"""The default store: one SQLite file, in WAL mode, through aiosqlite."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections import OrderedDict
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

UPSERT = (
    "INSERT INTO conversations (bot, chat, state, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (bot, chat) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
)

_Pending = tuple[ConversationKey, str, float, "asyncio.Future[None]"]


class SQLiteConversationStore(ConversationStore):
    """Conversations in a SQLite file.

    WAL with `synchronous=NORMAL`: a committed step survives the process being killed at
    any moment; after a power cut the last few steps may be lost but the file is never
    corrupt. Pass `synchronous="FULL"` to trade speed for power-cut durability too.

    Saves that arrive together are committed together (group commit): each `save` still
    returns only once its own row is committed, but many chats share one transaction.
    This process is assumed to be the only writer of its bots' conversations, so states
    it saved are also kept in a small in-memory cache that spares the read.
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL", cache_size: int = 10_000) -> None:
        super().__init__()
        self.path = Path(path)
        self.synchronous = synchronous
        self.cache_size = cache_size
        self._db: aiosqlite.Connection | None = None
        self._cache: OrderedDict[ConversationKey, str] = OrderedDict()
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

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
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                os.chmod(candidate, 0o600)

    async def shutdown(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._db is not None:
            await self._db.close()
            self._db = None
        self._cache.clear()

    def _remember(self, key: ConversationKey, data: str | None) -> None:
        if data is None:
            self._cache.pop(key, None)
            return
        self._cache[key] = data
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def load(self, key: ConversationKey) -> ConversationState | None:
        data = self._cache.get(key)
        if data is None:
            async with self.db.execute(
                "SELECT state FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            data = row[0]
        return ConversationState.from_json(data)

    async def save(self, key: ConversationKey, state: ConversationState, *, now: dt.datetime) -> None:
        data = state.to_json()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, data, now.timestamp(), done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await done
        self._remember(key, data)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self.db.executemany(UPSERT, [(k.bot, k.chat, data, ts) for k, data, ts, _ in batch])
                await self.db.commit()
            except Exception as err:  # every waiting save learns that it failed
                for key, _, _, done in batch:
                    self._remember(key, None)
                    if not done.done():
                        done.set_exception(err)
                continue
            for _, _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def delete(self, key: ConversationKey) -> bool:
        self._remember(key, None)
        cursor = await self.db.execute("DELETE FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat))
        await self.db.commit()
        return cursor.rowcount > 0

    async def purge_idle(self, bot: str, *, before: dt.datetime) -> int:
        cursor = await self.db.execute(
            "DELETE FROM conversations WHERE bot = ? AND updated_at < ?", (bot, before.timestamp())
        )
        await self.db.commit()
        for key in [k for k in self._cache if k.bot == bot]:
            self._cache.pop(key, None)
        return cursor.rowcount

    async def count(self, bot: str) -> int:
        async with self.db.execute("SELECT COUNT(*) FROM conversations WHERE bot = ?", (bot,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
