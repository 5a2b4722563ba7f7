"""The default store: one SQLite file, in WAL mode, through aiosqlite."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bots.engine.state import ConversationState
from bots.storage.base import ConversationKey, ConversationStore
from bots.storage.handoffs import HandoffChange
from bots.storage.journal import DeliveryJournal, IncomingUpdate, OutgoingCall
from bots.storage.sqlite_counters import (
    COUNTERS_SCHEMA,
    Count,
    SQLiteCounters,
    counter_statements,
)
from bots.storage.sqlite_handoffs import (
    HANDOFF_SCHEMA,
    SQLiteHandoffs,
    handoff_statements,
)
from bots.storage.sqlite_messages import MESSAGES_SCHEMA, REMEMBER, SQLiteMessages
from bots.storage.sqlite_news import NEWS_SCHEMA, SQLiteNews
from bots.vault import SealBroken, Vault

KEY_CHECK = "key check"


class StoreError(RuntimeError):
    """The database cannot be used as it is (another key, an older format): the message says why."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    state      BLOB NOT NULL,       -- sealed (see bots.vault)
    updated_at REAL NOT NULL,
    PRIMARY KEY (bot, chat)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversations_idle ON conversations (bot, updated_at);
CREATE TABLE IF NOT EXISTS updates (
    bot         TEXT NOT NULL,
    update_id   INTEGER NOT NULL,
    chat        TEXT NOT NULL,
    payload     BLOB,               -- the update, sealed, until it is processed; then NULL
    received_at REAL NOT NULL,
    UNIQUE (bot, update_id)
);
CREATE INDEX IF NOT EXISTS updates_waiting ON updates (bot) WHERE payload IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox (
    id         TEXT PRIMARY KEY,
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    method     TEXT NOT NULL,
    params     BLOB NOT NULL,       -- sealed
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_chat ON outbox (bot, chat);
CREATE TABLE IF NOT EXISTS blocked_chats (
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    blocked_at REAL NOT NULL,
    PRIMARY KEY (bot, chat)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (
    bot     TEXT NOT NULL,
    path    TEXT NOT NULL,
    digest  TEXT NOT NULL,
    file_id TEXT NOT NULL,
    PRIMARY KEY (bot, path)
) WITHOUT ROWID;
"""

UPSERT = (
    "INSERT INTO conversations (bot, chat, state, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (bot, chat) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
)

Statement = tuple[str, tuple[Any, ...]]


@dataclass
class _Write:
    statements: list[Statement]
    done: asyncio.Future[None]
    alone: bool  # must not be merged with other writes (its order against them matters)


class SQLiteConversationStore(ConversationStore, DeliveryJournal, SQLiteHandoffs, SQLiteMessages, SQLiteNews, SQLiteCounters):
    """Conversations in a SQLite file.

    WAL with `synchronous=NORMAL`: a committed step survives the process being killed at
    any moment; after a power cut the last few steps may be lost but the file is never
    corrupt. Pass `synchronous="FULL"` to trade speed for power-cut durability too.

    Saves that arrive together are committed together (group commit): each `save` still
    returns only once its own row is committed, but many chats share one transaction.
    This process is assumed to be the only writer of its bots' conversations, so states
    it saved are also kept in a small in-memory cache that spares the read.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "NORMAL",
        cache_size: int = 10_000,
        vault: Vault | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        #: seals what is kept; the development vault (a public key) unless one is given
        self.vault = vault or Vault.for_development()
        self.synchronous = synchronous
        self.cache_size = cache_size
        self._db: aiosqlite.Connection | None = None
        self._cache: OrderedDict[ConversationKey, str] = OrderedDict()
        self._data_version: int | None = None
        self._pending: list[_Write] = []
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
        await self._db.execute("PRAGMA secure_delete=ON")  # what is deleted is overwritten, not left in free pages
        await self._db.executescript(SCHEMA + HANDOFF_SCHEMA + MESSAGES_SCHEMA + COUNTERS_SCHEMA + NEWS_SCHEMA)
        await self._db.commit()
        await self._check_key()
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                os.chmod(candidate, 0o600)

    async def _check_key(self) -> None:
        """The database remembers a value sealed with its key: another key is refused at once."""
        async with self.db.execute("SELECT value FROM meta WHERE name = ?", (KEY_CHECK,)) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            try:
                self.vault.open(bytes(row[0]), KEY_CHECK)
            except SealBroken:
                await self.shutdown()
                which = "the development key" if self.vault.development else "this BOTS_SECRET_KEY"
                raise StoreError(
                    f"{self.path} was written with another secret key and cannot be read with {which}; "
                    "use the key it was made with, or another --db / BOTS_DB"
                ) from None
            return
        async with self.db.execute("SELECT COUNT(*) FROM conversations") as cursor:
            count = await cursor.fetchone()
        if count and count[0]:
            await self.shutdown()
            raise StoreError(f"{self.path} was written by an older version without encryption; move it away to start afresh")
        await self.db.execute("INSERT INTO meta (name, value) VALUES (?, ?)", (KEY_CHECK, self.vault.seal(b"ok", KEY_CHECK)))
        await self.db.commit()

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
            data = self.vault.open_text(bytes(row[0]), _state_context(key))
        return ConversationState.from_json(data)

    async def save(self, key: ConversationKey, state: ConversationState, *, now: dt.datetime) -> None:
        data = state.to_json()
        sealed = self.vault.seal_text(data, _state_context(key))
        await self._write([(UPSERT, (key.bot, key.chat, sealed, now.timestamp()))])
        self._remember(key, data)

    async def _write(self, statements: list[Statement], *, alone: bool = False) -> None:
        """Run the statements in a transaction shared with other writes waiting now
        (group commit); return once it is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Write(statements, done, alone))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch = [self._pending.pop(0)]
            if not batch[0].alone:
                while self._pending and not self._pending[0].alone:
                    batch.append(self._pending.pop(0))
            # statements of one kind run together, in the order they came
            grouped: dict[str, list[tuple[Any, ...]]] = {}
            for write in batch:
                for sql, params in write.statements:
                    grouped.setdefault(sql, []).append(params)
            try:
                for sql, rows in grouped.items():
                    await self.db.executemany(sql, rows)
                await self.db.commit()
            except Exception as err:  # every waiting write learns that it failed
                await self._rollback()
                for write in batch:
                    if not write.done.done():
                        write.done.set_exception(err)
                continue
            for write in batch:
                if not write.done.done():
                    write.done.set_result(None)

    async def _rollback(self) -> None:
        try:
            await self.db.rollback()
        except Exception:  # noqa: BLE001 - the original error is what the callers need
            pass

    async def delete(self, key: ConversationKey) -> bool:
        self._remember(key, None)
        existed = await self._exists("SELECT 1 FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat))
        await self._write([("DELETE FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat))], alone=True)
        return existed

    async def _exists(self, sql: str, params: tuple[Any, ...]) -> bool:
        async with self.db.execute(sql, params) as cursor:
            return await cursor.fetchone() is not None

    async def purge_idle(self, bot: str, *, before: dt.datetime) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM conversations WHERE bot = ? AND updated_at < ?", (bot, before.timestamp())
        ) as cursor:
            row = await cursor.fetchone()
        await self._write(
            [("DELETE FROM conversations WHERE bot = ? AND updated_at < ?", (bot, before.timestamp()))], alone=True
        )
        for key in [k for k in self._cache if k.bot == bot]:
            self._cache.pop(key, None)
        return int(row[0]) if row else 0

    async def count(self, bot: str) -> int:
        async with self.db.execute("SELECT COUNT(*) FROM conversations WHERE bot = ?", (bot,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # --- the delivery journal ---------------------------------------------------------------

    async def record_updates(self, updates: Sequence[IncomingUpdate], *, now: dt.datetime) -> list[IncomingUpdate]:
        if not updates:
            return []
        seen: set[tuple[str, int]] = set()
        for bot in {u.bot for u in updates}:
            ids = [u.update_id for u in updates if u.bot == bot]
            marks = ",".join("?" * len(ids))
            async with self.db.execute(
                f"SELECT update_id FROM updates WHERE bot = ? AND update_id IN ({marks})", (bot, *ids)
            ) as cursor:
                seen |= {(bot, row[0]) async for row in cursor}
        fresh: list[IncomingUpdate] = []
        for update in updates:
            if (update.bot, update.update_id) not in seen:
                seen.add((update.bot, update.update_id))
                fresh.append(update)
        if fresh:
            await self._write(
                [
                    (
                        "INSERT OR IGNORE INTO updates (bot, update_id, chat, payload, received_at) VALUES (?, ?, ?, ?, ?)",
                        (
                            u.bot, u.update_id, u.chat,
                            self.vault.seal_text(u.payload, _update_context(u.bot, u.update_id)), now.timestamp(),
                        ),
                    )
                    for u in fresh
                ]
            )
        return fresh

    async def unprocessed_updates(self, bot: str) -> list[IncomingUpdate]:
        async with self.db.execute(
            "SELECT update_id, chat, payload FROM updates WHERE bot = ? AND payload IS NOT NULL ORDER BY rowid", (bot,)
        ) as cursor:
            return [
                IncomingUpdate(bot, row[0], row[1], self.vault.open_text(bytes(row[2]), _update_context(bot, row[0])))
                async for row in cursor
            ]

    async def commit_step(
        self,
        key: ConversationKey | None,
        state: ConversationState | None,
        *,
        update: IncomingUpdate | None,
        calls: Sequence[OutgoingCall],
        now: dt.datetime,
        handoffs: Sequence[HandoffChange] = (),
        messages: Sequence[int] = (),
        counts: Sequence[Count] = (),
        bot: str | None = None,
    ) -> None:
        statements: list[Statement] = handoff_statements(self.vault, handoffs)
        data = None
        if key is not None and state is not None:
            data = state.to_json()
            sealed = self.vault.seal_text(data, _state_context(key))
            statements.append((UPSERT, (key.bot, key.chat, sealed, now.timestamp())))
        if update is not None:
            statements.append(
                ("UPDATE updates SET payload = NULL WHERE bot = ? AND update_id = ?", (update.bot, update.update_id))
            )
        statements += [self._call_statement(call, now) for call in calls]
        counted = key.bot if key is not None else bot
        if counts and counted is not None:
            statements += counter_statements(counted, now, counts)
        statements += [(REMEMBER, (key.bot, key.chat, m, now.timestamp())) for m in messages if key is not None]
        if statements:
            await self._write(statements)
        if key is not None and data is not None:
            self._remember(key, data)

    def _call_statement(self, call: OutgoingCall, now: dt.datetime) -> Statement:
        return (
            "INSERT INTO outbox (id, bot, chat, seq, method, params, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                call.id, call.bot, call.chat, call.seq, call.method,
                self.vault.seal_json(call.params, _call_context(call.id)), now.timestamp(),
            ),
        )

    async def notice_other_writers(self) -> bool:
        """Whether another connection changed the file since we last looked (then the cache,
        which assumes we are the only writer, is dropped)."""
        async with self.db.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        changed = self._data_version is not None and version != self._data_version
        self._data_version = version
        if changed:
            self._cache.clear()
        return changed

    async def meta(self, name: str) -> bytes | None:
        async with self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
        return bytes(row[0]) if row else None

    async def set_meta(self, name: str, value: bytes) -> None:
        await self._write([("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))], alone=True)

    def _forget_cached(self, bot: str, chat: str) -> None:
        self._cache.pop(ConversationKey(bot, chat), None)

    async def pending_calls(self, bot: str) -> list[OutgoingCall]:
        async with self.db.execute(
            "SELECT id, chat, seq, method, params FROM outbox WHERE bot = ? ORDER BY rowid", (bot,)
        ) as cursor:
            return [
                OutgoingCall(row[0], bot, row[1], row[2], row[3], self.vault.open_json(bytes(row[4]), _call_context(row[0])))
                async for row in cursor
            ]

    async def call_done(self, call: OutgoingCall) -> None:
        await self._write([("DELETE FROM outbox WHERE id = ?", (call.id,))])

    async def drop_calls(self, bot: str, chat: str) -> int:
        async with self.db.execute("SELECT COUNT(*) FROM outbox WHERE bot = ? AND chat = ?", (bot, chat)) as cursor:
            row = await cursor.fetchone()
        await self._write([("DELETE FROM outbox WHERE bot = ? AND chat = ?", (bot, chat))], alone=True)
        return int(row[0]) if row else 0

    async def set_blocked(self, bot: str, chat: str, blocked: bool, *, now: dt.datetime) -> None:
        if blocked:
            sql = "INSERT OR REPLACE INTO blocked_chats (bot, chat, blocked_at) VALUES (?, ?, ?)"
            await self._write([(sql, (bot, chat, now.timestamp()))], alone=True)
        else:
            await self._write([("DELETE FROM blocked_chats WHERE bot = ? AND chat = ?", (bot, chat))], alone=True)

    async def is_blocked(self, bot: str, chat: str) -> bool:
        return await self._exists("SELECT 1 FROM blocked_chats WHERE bot = ? AND chat = ?", (bot, chat))

    async def file_id(self, bot: str, path: str, digest: str) -> str | None:
        async with self.db.execute(
            "SELECT file_id FROM files WHERE bot = ? AND path = ? AND digest = ?", (bot, path, digest)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def remember_file_id(self, bot: str, path: str, digest: str, file_id: str) -> None:
        sql = "INSERT OR REPLACE INTO files (bot, path, digest, file_id) VALUES (?, ?, ?, ?)"
        await self._write([(sql, (bot, path, digest, file_id))])

    async def purge_journal(self, *, before: dt.datetime) -> int:
        sql_count = "SELECT COUNT(*) FROM updates WHERE payload IS NULL AND received_at < ?"
        async with self.db.execute(sql_count, (before.timestamp(),)) as cursor:
            row = await cursor.fetchone()
        sql = "DELETE FROM updates WHERE payload IS NULL AND received_at < ?"
        await self._write([(sql, (before.timestamp(),))], alone=True)
        return int(row[0]) if row else 0


def _state_context(key: ConversationKey) -> str:
    return f"state\0{key.bot}\0{key.chat}"


def _update_context(bot: str, update_id: int) -> str:
    return f"update\0{bot}\0{update_id}"


def _call_context(call_id: str) -> str:
    return f"call\0{call_id}"
