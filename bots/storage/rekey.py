"""`bots db rekey`: move a whole database to a new `BOTS_SECRET_KEY`.

Two things depend on the key (see `bots.privacy.vault`): the sealed values, and the keyed hashes
that chats are filed under. The sealed values are opened with the old key and sealed with
the new one, each bound to its row as before. The chats cannot be hashed afresh, since the
database does not hold their ids; instead every stored chat key (the `chat` and `mod_chat`
columns) is hashed once more with a layer key derived from the new secret, and the keys a
vault needs to get from a chat id to that (the first hashing key and the layers before) are
stored sealed under the new key (`meta` row `chat hash keys`). So the new key finds every
chat under the same chat id, and the old key neither opens a value nor finds a chat: its
hashes are no longer in the database.

All or nothing: every new value is computed first and written in one transaction, with the
new key check. A half-done rekey would leave rows under two keys, which no key reads whole;
with one transaction the database is at every moment wholly under the old key or wholly
under the new one, and a crash, a full disk or Ctrl-C leaves it as it was (run it again).
The price is memory (every sealed value of the database, once) and a write lock while it
commits, which is why the bots must be stopped: a worker's heartbeat in the last 10 s, or
a broadcast's, makes it refuse unless told otherwise.

What the old key could still read is not left behind: SQLite overwrites what an update
replaces (`secure_delete`), and on PostgreSQL the tables are rewritten (`VACUUM FULL`)
so that the rows' old versions leave its files.

Every table with a sealed column or a chat key must be known here (`TABLES`): a database
with one this module does not know is refused before anything changes, never half moved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.privacy.vault import CHAT_KEYS, SealBroken, Vault
from bots.storage.admin import columns
from bots.storage.base import ConversationKey
from bots.storage.database import SQLiteDatabase
from bots.storage.schema import LATEST
from bots.storage.sql import (
    KEY_CHECK,
    SQLStore,
    StoreError,
    _call_context,
    _delivery_context,
    _state_context,
    _update_context,
)
from bots.storage.sql_handoffs import _context as _handoff_context
from bots.storage.sql_news import person_context as _subscriber_context
from bots.storage.sql_vanish import person_context as _vanish_context
from bots.storage.sql_workers import WORKER_TIMEOUT

#: the columns that hold a chat's keyed hash
HASHED = ("chat", "mod_chat")
#: a broadcast whose sender said it was alive this recently is running (bots.broadcast.sending.STALE)
BROADCAST_STALE = 60.0

Row = Mapping[str, Any]
Context = Callable[[Row], str]


@dataclass(frozen=True)
class Table:
    """How to move one table: the columns that find a row, and each sealed column's context."""

    identity: tuple[str, ...]
    sealed: Mapping[str, Context] = field(default_factory=dict)


def _handoff_field(name: str) -> Context:
    return lambda r: _handoff_context(r["id"], name)


TABLES: dict[str, Table] = {
    "conversations": Table(("bot", "chat"), {"state": lambda r: _state_context(ConversationKey(r["bot"], r["chat"]))}),
    "updates": Table(("bot", "update_id"), {"payload": lambda r: _update_context(r["bot"], int(r["update_id"]))}),
    "outbox": Table(("id",), {"params": lambda r: _call_context(r["id"]), "delivery": lambda r: _delivery_context(r["id"])}),
    "blocked_chats": Table(("bot", "chat")),
    "handoffs": Table(
        ("id",),
        {name: _handoff_field(name) for name in ("topic", "claimed_by", "person")},
    ),
    "relays": Table(("bot", "mod_chat", "message_id")),
    "messages": Table(("bot", "chat", "message_id")),
    "subscribers": Table(("bot", "chat"), {"person": lambda r: _subscriber_context(r["bot"], r["chat"])}),
    "deliveries": Table(("bot", "digest", "chat")),
    "flood": Table(("bot", "chat")),
    "vanishing": Table(("bot", "chat", "message_id"), {"person": lambda r: _vanish_context(r["bot"], r["chat"])}),
}
_BLOB = ("BLOB", "BYTEA")


@dataclass
class Rekeyed:
    """What `rekey` did."""

    engine: str
    where: str
    rows: dict[str, int]  # rows rewritten, by table
    sealed: int  # values opened with the old key and sealed with the new one
    chats: int  # distinct chat keys moved under the new key
    layers: int  # how many keys the database had before the new one
    seconds: float
    checked: int = 0  # sealed values read back with the new key after the commit

    def lines(self) -> list[str]:
        listed = ", ".join(f"{count} {table}" for table, count in self.rows.items() if count) or "no rows"
        return [
            f"rekeyed {self.where} ({self.engine}) in {self.seconds:.1f} s: {sum(self.rows.values())} rows ({listed})",
            f"re-sealed {self.sealed} values under the new key; {self.chats} chat keys moved under it "
            f"(key {self.layers + 1} of this database: the old key opens nothing here now, and finds no chat)",
            f"checked: all {self.checked} sealed values open with the new key",
        ]


async def rekey(store: SQLStore, new_master: bytes, *, force: bool = False, now: float | None = None) -> Rekeyed:
    """Move the database of `store` (opened with its current key) to the secret `new_master`,
    in one transaction; then read every sealed value back with the new key. Raises
    `StoreError` with what to do when it cannot: nothing has changed then."""
    started = time.monotonic()
    database = store.database
    new_alone = Vault(new_master)
    if new_alone.same_secret(store.vault):
        raise StoreError("the new key is the key the database already has: make a new one with 'bots keygen'")
    if new_alone.same_secret(Vault.for_development()):
        raise StoreError("the new key is the public development key, which protects nothing: make one with 'bots keygen'")
    if isinstance(database, SQLiteDatabase) and not Path(database.path).exists():
        raise StoreError(f"{database.where}: no such database (give it with --db, or set BOTS_DATABASE_URL or BOTS_DB)")
    await database.open()
    try:
        version = await store.schema_version()
    finally:
        await database.close()
    if version == 0:
        raise StoreError(f"{database.where} holds nothing to rekey: start the bots with the new key instead")
    if version < LATEST:
        raise StoreError(f"{database.where} has schema version {version}: run 'bots db upgrade' first, then rekey")
    await store.initialize()  # checks the old key, with the message every command gives
    try:
        await _refuse_if_running(store, force, now)
        present = await database.tables()
        await _refuse_unknown(store, present)
        new = store.vault.successor(new_master)
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        done = Rekeyed(database.engine, database.where, {}, 0, 0, new.layers, 0.0)
        chats: set[str] = set()
        for table, how in TABLES.items():
            if table in present:
                done.rows[table], sealed = await _move(store, new, table, how, grouped, chats)
                done.sealed += sealed
        done.sealed += _move_meta(await database.fetchall("SELECT name, value FROM meta"), store.vault, new, grouped)
        done.chats = len(chats)
        await _refuse_if_running(store, force, now)  # a worker that started while we read would lose its writes
        await database.transaction(grouped)
        if database.engine == "postgresql":
            # the rows' old versions (under the old key) stay in the table's files until
            # they are rewritten; SQLite overwrites them in place (secure_delete)
            for table in ["meta", *(t for t, count in done.rows.items() if count)]:
                await database.fetchall(f"VACUUM FULL {table}")
    finally:
        await store.shutdown()
    done.checked = await _check(store, new_master)
    done.seconds = time.monotonic() - started
    return done


async def _refuse_if_running(store: SQLStore, force: bool, now: float | None) -> None:
    if force:
        return
    at = now if now is not None else time.time()
    workers = [
        str(r[0])
        for r in await store.database.fetchall("SELECT id FROM workers WHERE alive_at >= ? ORDER BY id", (at - WORKER_TIMEOUT,))
    ]
    sending = [
        str(r[0])
        for r in await store.database.fetchall(
            "SELECT bot FROM broadcasts WHERE finished_at IS NULL AND owner IS NOT NULL AND alive_at >= ? ORDER BY bot",
            (at - BROADCAST_STALE,),
        )
    ]
    if workers or sending:
        running = (
            [f"{len(workers)} worker(s) said they were alive in the last {WORKER_TIMEOUT:.0f} s ({', '.join(workers)})"]
            if workers
            else []
        )
        running += [f"a broadcast of {bot} is being sent" for bot in sending]
        raise StoreError(
            f"{store.database.where}: {'; '.join(running)}: stop the bots first, or pass --force if you know they are stopped "
            "(what a running bot writes meanwhile would be lost)"
        )


async def _refuse_unknown(store: SQLStore, present: set[str]) -> None:
    """A table or column that may hold a sealed value or a chat key, unknown here: refuse."""
    for table in sorted(present):
        found = await columns(store.database, table)
        how = TABLES.get(table)
        for name, kind in found:
            if table == "meta":
                continue
            if (kind in _BLOB and (how is None or name not in how.sealed)) or (name in HASHED and how is None):
                raise StoreError(
                    f"{store.database.where}: column {table}.{name} is unknown to this bots db rekey, which cannot "
                    "move it to the new key: nothing was changed (use the bots version that made this database)"
                )


async def _move(
    store: SQLStore, new: Vault, table: str, how: Table, grouped: dict[str, list[tuple[Any, ...]]], chats: set[str]
) -> tuple[int, int]:
    """Add the rewriting of every row of `table` to `grouped` (and its chat keys to
    `chats`): how many rows, how many sealed values."""
    have = {name for name, _ in await columns(store.database, table)}
    hashed = [c for c in HASHED if c in have]
    seals = [c for c in how.sealed if c in have]
    wanted = list(dict.fromkeys([*how.identity, *hashed, *seals]))
    changed = [*hashed, *seals]
    if not changed:
        return 0, 0
    sql = f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in changed)} WHERE {' AND '.join(f'{c} = ?' for c in how.identity)}"
    params = grouped.setdefault(sql, [])
    old = store.vault
    count = sealed = 0
    async for batch in store.rows(table, wanted, batch=5000):
        for values in batch:
            before = dict(zip(wanted, values))
            after = dict(before)
            for c in hashed:
                after[c] = new.rehash(str(before[c]))
                if before[c]:
                    chats.add(str(before[c]))
            row: list[Any] = [after[c] for c in hashed]
            for c in seals:
                if before[c] is None:
                    row.append(None)
                    continue
                try:
                    data = old.open(bytes(before[c]), how.sealed[c](before))
                except SealBroken as err:
                    raise StoreError(
                        f"{store.database.where}: a value in {table}.{c} does not open with the old key ({err}): nothing was changed"
                    ) from None
                row.append(new.seal(data, how.sealed[c](after)))
                sealed += 1
            params.append((*row, *(before[c] for c in how.identity)))
            count += 1
    return count, sealed


def _move_meta(rows: list[Any], old: Vault, new: Vault, grouped: dict[str, list[tuple[Any, ...]]]) -> int:
    """The key check (and any other `meta` value sealed under its own name) under the new
    key, and the chain that computes the chat keys."""
    sql = "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    params = grouped.setdefault(sql, [])
    sealed = 0
    for name, value in rows:
        if name == CHAT_KEYS:
            continue
        try:
            data = old.open(bytes(value), str(name))
        except SealBroken:
            continue  # not sealed (the schema version, a weekly report's mark)
        params.append((name, new.seal(data, str(name))))
        sealed += 1
    if not any(name == KEY_CHECK for name, _ in params):
        params.append((KEY_CHECK, new.seal(b"ok", KEY_CHECK)))
    chain = new.sealed_chain()
    if chain is None:  # pragma: no cover - a successor always has one
        raise RuntimeError("the new vault has no chat hash keys to keep")
    params.append((CHAT_KEYS, chain))
    return sealed


async def _check(store: SQLStore, new_master: bytes) -> int:
    """Open the database as `bots run` will, with the new key alone, and open every sealed
    value: how many. Raises `StoreError` if one does not open (it would be a bug here)."""
    store.vault = Vault(new_master)
    await store.initialize()
    try:
        opened = 0
        present = await store.database.tables()
        for table, how in TABLES.items():
            if table not in present:
                continue
            have = {name for name, _ in await columns(store.database, table)}
            seals = [c for c in how.sealed if c in have]
            if not seals:
                continue
            wanted = list(dict.fromkeys([*how.identity, *seals]))
            async for batch in store.rows(table, wanted, batch=5000):
                for values in batch:
                    row = dict(zip(wanted, values))
                    for c in seals:
                        if row[c] is not None:
                            try:
                                store.vault.open(bytes(row[c]), how.sealed[c](row))
                            except SealBroken:
                                raise StoreError(
                                    f"{store.database.where}: after rekeying, a value in {table}.{c} does not open"
                                ) from None
                            opened += 1
        for name, value in await store.database.fetchall("SELECT name, value FROM meta WHERE name != ?", (CHAT_KEYS,)):
            try:  # the key check (as initialize just did), and any other sealed under its name
                store.vault.open(bytes(value), str(name))
                opened += 1
            except SealBroken:
                continue
        return opened
    finally:
        await store.shutdown()
