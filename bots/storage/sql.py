"""The store, written once for both engines: conversations and the delivery journal; what
several workers need to share one database (heartbeats, leases, call owners, the chat lock)
is its mixin `bots.storage.sql_workers`.

The queries are in the SQL that SQLite and PostgreSQL both speak; a `Database` driver runs
them (`bots.storage.database`). Writes that arrive together are committed together (group
commit): each still returns only once its own rows are committed, but many chats share one
transaction. When the database is not shared with other processes (SQLite), states this
process saved are kept in a small cache, parsed, which spares the read, the opening and the
parsing: `load` hands out a copy of the kept state, `save` keeps a copy of the one it sealed.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from bots.calls import Delivery, from_old_params
from bots.engine.state import ConversationState
from bots.errors import BotsError
from bots.privacy.vault import CHAT_KEYS, SealBroken, Vault
from bots.storage.base import ConversationKey, ConversationStore
from bots.storage.batching import BatchedReads, GroupCommit
from bots.storage.database import Database, DatabaseUnavailable, Statement
from bots.storage.journal import DeliveryJournal, IncomingUpdate, OutgoingCall
from bots.storage.outcome import Outcome
from bots.storage.schema import LATEST, MIGRATIONS, VERSION_NAME
from bots.storage.sql_counters import SQLCounters, counter_statements
from bots.storage.sql_handoffs import SQLHandoffs, handoff_statements
from bots.storage.sql_messages import REMEMBER, SQLMessages
from bots.storage.sql_news import SQLNews
from bots.storage.sql_vanish import SQLVanish
from bots.storage.sql_workers import CALL_COLUMNS, SQLWorkers

KEY_CHECK = "key check"


class StoreError(BotsError, RuntimeError):
    """The database cannot be used as it is (another key, another version, unreachable): the
    message says why, in one line."""


UPSERT = (
    "INSERT INTO conversations (bot, chat, state, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (bot, chat) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
)
CALL = "INSERT INTO outbox (id, bot, chat, seq, method, params, created_at, owner, delivery) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


@dataclass
class _Kept:
    """A state this process saved, as the cache keeps it: a copy nobody else holds, and the
    JSON of its snapshots by id (`ConversationState.to_json_reusing`): the next save of the
    chat shares most of them and writes only the new one."""

    state: ConversationState
    texts: dict[int, str]


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class SQLStore(SQLWorkers, ConversationStore, DeliveryJournal, SQLHandoffs, SQLMessages, SQLNews, SQLCounters, SQLVanish):
    # SQLWorkers first: its `lock` (held among workers) is the store's, not ConversationStore's
    """Conversations and the journal in a SQL database (see the module's docstring)."""

    def __init__(self, database: Database, *, vault: Vault | None = None, cache_size: int = 10_000) -> None:
        super().__init__()
        self.database = database
        #: where the database is: a SQLite file's path, or a postgresql:// URL
        self.location = database.where
        #: seals what is kept; the development vault (a public key) unless one is given
        self.vault = vault or Vault.for_development()
        #: this process, as other workers sharing the database see it
        self.worker = new_worker_id()
        self.cache_size = cache_size if not database.shared else 0
        self._cache: OrderedDict[ConversationKey, _Kept] = OrderedDict()
        #: states asked for in one turn of the event loop, read in one query
        self._reads = BatchedReads(database)
        #: this worker is the only one on the database, as its last heartbeat found: a chat's
        #: calls need no look at other workers' (a worker appearing is seen within seconds, and
        #: its calls wait for its first heartbeat: see `calls_before`)
        self.alone = False
        #: writes waiting now, committed together: a few transactions at once on a pool (a write
        #: waits for a round trip less, not for the whole batch before it), one on SQLite's single
        #: connection, where a transaction starts once the event loop has had a turn with no new
        #: write (on SQLite, whose thread must take the GIL back after each statement, a commit
        #: made while the loop is busy stepping other chats takes several times longer)
        self._writes = GroupCommit(database, parallel=3 if database.shared else 1, gather=not database.shared)
        self._opened = False

    @property
    def shared(self) -> bool:
        """Several processes may work on this database at once."""
        return self.database.shared

    # --- opening: versions and the key ----------------------------------------------------

    async def initialize(self, *, upgrade: bool = False) -> None:
        """Open the database, create it if it is new, and check its version and key. An
        older database is upgraded only with `upgrade=True` (`bots db upgrade`)."""
        if self._opened:
            return
        try:
            await self.database.open()
        except DatabaseUnavailable as err:
            raise StoreError(str(err)) from None
        try:
            version = await self.schema_version()
            if version == 0 or (upgrade and version < LATEST):
                await self._migrate(version)
            elif version < LATEST:
                raise StoreError(
                    f"{self.database.where} has schema version {version}, this version of bots needs {LATEST}: "
                    "back it up, then run 'bots db upgrade'"
                )
            elif version > LATEST:
                raise StoreError(
                    f"{self.database.where} has schema version {version}, newer than this version of bots "
                    f"knows ({LATEST}): run a newer bots, or restore a backup made for this one"
                )
            await self._check_key()
        except BaseException:
            await self.database.close()
            raise
        self._opened = True
        await self._opened_hook()

    async def _opened_hook(self) -> None:
        """What an engine does once the database is open and checked."""

    async def schema_version(self) -> int:
        """The version the database has: 0 when it is empty."""
        tables = await self.database.tables()
        if "meta" not in tables:
            return 1 if "conversations" in tables else 0
        value = await self.database.fetchval("SELECT value FROM meta WHERE name = ?", (VERSION_NAME,))
        if value is None:
            return 1 if "conversations" in tables else 0
        return int(bytes(value).decode())

    async def _migrate(self, version: int) -> None:
        """Every missing step and the new version in one transaction: another worker sees the
        database before or after, never half-way (it would take it for an older one)."""
        mark = (
            "INSERT INTO meta (name, value) VALUES ('schema version', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        )
        steps = MIGRATIONS[self.database.engine][version:LATEST]
        await self.database.script("\n".join(steps), then=(mark, (str(LATEST).encode(),)))

    async def _check_key(self) -> None:
        """The database remembers a value sealed with its key: another key is refused at once."""
        value = await self.database.fetchval("SELECT value FROM meta WHERE name = ?", (KEY_CHECK,))
        if value is not None:
            try:
                self.vault.open(bytes(value), KEY_CHECK)
            except SealBroken:
                which = "the development key" if self.vault.development else "this BOTS_SECRET_KEY"
                raise StoreError(
                    f"{self.database.where} was written with another secret key and cannot be read with {which}; "
                    "use the key it was made with, or another database"
                ) from None
            chain = await self.database.fetchval("SELECT value FROM meta WHERE name = ?", (CHAT_KEYS,))
            if chain is not None:  # moved to this key by 'bots db rekey': chats are found as before (bots.privacy.vault)
                self.vault.adopt_chain(bytes(chain))
            return
        if await self.database.fetchval("SELECT COUNT(*) FROM conversations"):
            raise StoreError(
                f"{self.database.where} was written by an older version without encryption; move it away to start afresh"
            )
        await self.database.transaction(
            {
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING": [
                    (KEY_CHECK, self.vault.seal(b"ok", KEY_CHECK))
                ]
            }
        )

    async def shutdown(self) -> None:
        await self._writes.settled()
        await self._closing_hook()
        await self.database.close()
        self._opened = False
        self._cache.clear()

    async def _closing_hook(self) -> None:
        """What an engine lets go of before the database closes."""

    # --- conversations ------------------------------------------------------------------

    def _remember(self, key: ConversationKey, kept: _Kept | None) -> None:
        """Keep `kept` as the chat's saved state; None forgets it."""
        if kept is None or not self.cache_size:
            self._cache.pop(key, None)
            return
        self._cache[key] = kept
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _state_json(self, key: ConversationKey, state: ConversationState) -> tuple[str, _Kept | None]:
        """The JSON to seal of a state being saved, and what the cache will keep of it once
        it is committed: a copy taken now (the caller may change its own afterwards)."""
        if not self.cache_size:
            return state.to_json(), None
        before = self._cache.get(key)
        data, texts = state.to_json_reusing(before.texts if before is not None else {})
        return data, _Kept(state.copy_deep(), texts)

    async def load(self, key: ConversationKey) -> ConversationState | None:
        cached = self._cache.get(key)
        if cached is not None:
            return cached.state.copy_deep()  # the caller's own: the kept one never leaves the store
        value = await self._read_state(key)
        if value is None:
            return None
        return ConversationState.from_json(self.vault.open_text(bytes(value), _state_context(key)))

    async def _read_state(self, key: ConversationKey) -> Any:
        """The chat's sealed state (read with the others asked for in the same turn of the loop)."""
        return await self._reads.read(key)

    async def save(self, key: ConversationKey, state: ConversationState, *, now: dt.datetime) -> None:
        data, kept = self._state_json(key, state)
        sealed = self.vault.seal_text(data, _state_context(key))
        await self._write([(UPSERT, (key.bot, key.chat, sealed, now.timestamp()))])
        self._remember(key, kept)

    async def _write(self, statements: list[Statement], *, alone: bool = False) -> None:
        """Run the statements in a transaction shared with other writes waiting now
        (group commit, `bots.storage.batching`); return once it is committed."""
        await self._writes.write(statements, alone=alone)

    async def delete(self, key: ConversationKey) -> bool:
        self._remember(key, None)
        existed = await self._exists("SELECT 1 FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat))
        await self._write([("DELETE FROM conversations WHERE bot = ? AND chat = ?", (key.bot, key.chat))], alone=True)
        return existed

    async def _exists(self, sql: str, params: tuple[Any, ...]) -> bool:
        return await self.database.fetchone(sql, params) is not None

    async def _count(self, sql: str, params: tuple[Any, ...]) -> int:
        return int(await self.database.fetchval(sql, params) or 0)

    async def purge_idle(self, bot: str, *, before: dt.datetime) -> int:
        count = await self._count(
            "SELECT COUNT(*) FROM conversations WHERE bot = ? AND updated_at < ?", (bot, before.timestamp())
        )
        await self._write([("DELETE FROM conversations WHERE bot = ? AND updated_at < ?", (bot, before.timestamp()))], alone=True)
        for key in [k for k in self._cache if k.bot == bot]:
            self._cache.pop(key, None)
        return count

    async def count(self, bot: str) -> int:
        return await self._count("SELECT COUNT(*) FROM conversations WHERE bot = ?", (bot,))

    # --- the delivery journal ---------------------------------------------------------------

    def _record_statements(self, fresh: Sequence[IncomingUpdate], now: dt.datetime) -> list[Statement]:
        return [
            (
                "INSERT INTO updates (bot, update_id, chat, payload, received_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (bot, update_id) DO NOTHING",
                (
                    u.bot,
                    u.update_id,
                    u.chat,
                    self.vault.seal_text(u.payload, _update_context(u.bot, u.update_id)),
                    now.timestamp(),
                ),
            )
            for u in fresh
        ]

    async def record_updates(self, updates: Sequence[IncomingUpdate], *, now: dt.datetime) -> list[IncomingUpdate]:
        if not updates:
            return []
        seen: set[tuple[str, int]] = set()
        for bot in {u.bot for u in updates}:
            ids = [u.update_id for u in updates if u.bot == bot]
            marks = ",".join("?" * len(ids))
            rows = await self.database.fetchall(
                f"SELECT update_id FROM updates WHERE bot = ? AND update_id IN ({marks})", (bot, *ids)
            )
            seen |= {(bot, int(row[0])) for row in rows}
        fresh: list[IncomingUpdate] = []
        for update in updates:
            if (update.bot, update.update_id) not in seen:
                seen.add((update.bot, update.update_id))
                fresh.append(update)
        if fresh:
            await self._write(self._record_statements(fresh, now))
        return fresh

    async def unprocessed_updates(self, bot: str, *, chat: str | None = None) -> list[IncomingUpdate]:
        """Updates recorded but not processed, in the order they arrived (of one chat, or all)."""
        where, params = ("AND chat = ?", (bot, chat)) if chat is not None else ("", (bot,))
        rows = await self.database.fetchall(
            f"SELECT update_id, chat, payload FROM updates WHERE bot = ? AND payload IS NOT NULL {where} "
            f"ORDER BY {self.database.arrival}",
            params,
        )
        return [
            IncomingUpdate(bot, int(row[0]), str(row[1]), self.vault.open_text(bytes(row[2]), _update_context(bot, int(row[0]))))
            for row in rows
        ]

    async def waiting_chats(self, bot: str, *, received_before: float) -> list[str]:
        """Chats with an update recorded before `received_before` and not processed yet (one
        a dead worker recorded, or one that arrived while every worker was busy)."""
        rows = await self.database.fetchall(
            "SELECT DISTINCT chat FROM updates WHERE bot = ? AND payload IS NOT NULL AND received_at < ?",
            (bot, received_before),
        )
        return [str(row[0]) for row in rows]

    async def commit(self, outcome: Outcome, *, now: dt.datetime) -> None:
        """Everything a turn changes (see `bots.storage.outcome`), in one transaction."""
        key, state = outcome.key, outcome.state
        if outcome.forget and key is not None:
            await self.forget_chat(key.bot, key.chat, update=outcome.update, calls=outcome.calls, now=now)
            return
        statements: list[Statement] = handoff_statements(self.vault, outcome.handoffs)
        kept = None
        if key is not None and state is not None:
            data, kept = self._state_json(key, state)
            sealed = self.vault.seal_text(data, _state_context(key))
            statements.append((UPSERT, (key.bot, key.chat, sealed, now.timestamp())))
        update = outcome.update
        if update is not None:
            statements.append(
                ("UPDATE updates SET payload = NULL WHERE bot = ? AND update_id = ?", (update.bot, update.update_id))
            )
        statements += [self._call_statement(call, now) for call in outcome.calls]
        counted = key.bot if key is not None else outcome.bot
        if outcome.counts and counted is not None:
            statements += counter_statements(counted, now, outcome.counts)
        if key is not None:
            statements += [(REMEMBER, (key.bot, key.chat, m, now.timestamp())) for m in outcome.messages]
            if outcome.reschedule is not None:
                statements += self.reschedule_statements(key.bot, key.chat, outcome.reschedule, now=now)
            if outcome.vanish is not None:
                statements += self.vanish_statements(key.bot, key.chat, outcome.vanish, outcome.messages, now=now)
            if outcome.subscription is not None:
                statements += self.subscription_statements(key.bot, key.chat, outcome.subscription, now=now)
        statements += outcome.extra
        if statements:
            await self._write(statements)
        if key is not None and kept is not None:
            self._remember(key, kept)

    def _call_statement(self, call: OutgoingCall, now: dt.datetime) -> Statement:
        return (
            CALL,
            (
                call.id,
                call.bot,
                call.chat,
                call.seq,
                call.method,
                self.vault.seal_json(call.params, _call_context(call.id)),
                now.timestamp(),
                self.worker,
                self.vault.seal_json(call.delivery.to_json(), _delivery_context(call.id)),
            ),
        )

    async def notice_other_writers(self) -> bool:
        """Whether another process changed the database since we last looked (then what this
        process cached is dropped). A shared database caches nothing, so never."""
        return False

    async def meta(self, name: str) -> bytes | None:
        value = await self.database.fetchval("SELECT value FROM meta WHERE name = ?", (name,))
        return bytes(value) if value is not None else None

    async def set_meta(self, name: str, value: bytes) -> None:
        await self._write(
            [
                (
                    "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )
            ],
            alone=True,
        )

    def _forget_cached(self, bot: str, chat: str) -> None:
        self._cache.pop(ConversationKey(bot, chat), None)

    def _calls(self, bot: str, rows: Sequence[Sequence[Any]]) -> list[OutgoingCall]:
        """Journalled calls from rows of CALL_COLUMNS."""
        calls = []
        for row in rows:
            call_id = str(row[0])
            params = self.vault.open_json(bytes(row[4]), _call_context(call_id))
            if row[5] is None:  # journalled by a version before deliveries had their column
                params, delivery = from_old_params(params)
            else:
                delivery = Delivery.from_json(self.vault.open_json(bytes(row[5]), _delivery_context(call_id)))
            calls.append(OutgoingCall(call_id, bot, str(row[1]), int(row[2]), str(row[3]), params, delivery))
        return calls

    async def pending_calls(self, bot: str) -> list[OutgoingCall]:
        rows = await self.database.fetchall(
            f"SELECT {CALL_COLUMNS} FROM outbox WHERE bot = ? ORDER BY {self.database.arrival}", (bot,)
        )
        return self._calls(bot, rows)

    async def call_done(self, call: OutgoingCall) -> None:
        await self._write([("DELETE FROM outbox WHERE id = ?", (call.id,))])

    async def drop_calls(self, bot: str, chat: str) -> int:
        count = await self._count("SELECT COUNT(*) FROM outbox WHERE bot = ? AND chat = ?", (bot, chat))
        await self._write([("DELETE FROM outbox WHERE bot = ? AND chat = ?", (bot, chat))], alone=True)
        return count

    async def set_blocked(self, bot: str, chat: str, blocked: bool, *, now: dt.datetime) -> None:
        if blocked:
            sql = (
                "INSERT INTO blocked_chats (bot, chat, blocked_at) VALUES (?, ?, ?) "
                "ON CONFLICT (bot, chat) DO UPDATE SET blocked_at = excluded.blocked_at"
            )
            await self._write([(sql, (bot, chat, now.timestamp()))], alone=True)
        else:
            await self._write([("DELETE FROM blocked_chats WHERE bot = ? AND chat = ?", (bot, chat))], alone=True)

    async def is_blocked(self, bot: str, chat: str) -> bool:
        return await self._exists("SELECT 1 FROM blocked_chats WHERE bot = ? AND chat = ?", (bot, chat))

    async def file_id(self, bot: str, path: str, digest: str) -> str | None:
        value = await self.database.fetchval(
            "SELECT file_id FROM files WHERE bot = ? AND path = ? AND digest = ?", (bot, path, digest)
        )
        return str(value) if value is not None else None

    async def remember_file_id(self, bot: str, path: str, digest: str, file_id: str) -> None:
        sql = (
            "INSERT INTO files (bot, path, digest, file_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (bot, path) DO UPDATE SET digest = excluded.digest, file_id = excluded.file_id"
        )
        await self._write([(sql, (bot, path, digest, file_id))])

    async def purge_journal(self, *, before: dt.datetime) -> int:
        count = await self._count("SELECT COUNT(*) FROM updates WHERE payload IS NULL AND received_at < ?", (before.timestamp(),))
        sql = "DELETE FROM updates WHERE payload IS NULL AND received_at < ?"
        # shared flood control keeps a chat's recent times only while they can matter
        flood = "DELETE FROM flood WHERE seen_at < ?"
        await self._write([(sql, (before.timestamp(),)), (flood, (before.timestamp(),))], alone=True)
        return count

    # --- reading everything (bots db copy, rekey) -----------------------------------------

    async def rows(self, table: str, columns: Sequence[str], *, batch: int = 1000) -> AsyncIterator[list[Sequence[Any]]]:
        """Every row of `table`, in arrival order where it has one, a batch at a time."""
        order = self.database.arrival if table in ("updates", "outbox") else ", ".join(columns)
        offset = 0
        while True:
            found = await self.database.fetchall(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (batch, offset)
            )
            if not found:
                return
            yield found
            offset += len(found)


def _state_context(key: ConversationKey) -> str:
    return f"state\0{key.bot}\0{key.chat}"


def _update_context(bot: str, update_id: int) -> str:
    return f"update\0{bot}\0{update_id}"


def _call_context(call_id: str) -> str:
    return f"call\0{call_id}"


def _delivery_context(call_id: str) -> str:
    return f"call\0{call_id}\0delivery"
