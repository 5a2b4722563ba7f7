"""Looking after a database: its status, upgrading its schema, copying it to the other engine.

`copy` moves a whole deployment between SQLite and PostgreSQL. The rows are copied as they
are: sealed values stay sealed (each is bound to its row, not to the engine), so the copy is
readable with the same `BOTS_SECRET_KEY` and only with it. A target that holds anything is
refused, so that a copy never mixes two deployments or overwrites one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bots.privacy.vault import SealBroken
from bots.storage.database import Database
from bots.storage.schema import LATEST, NOTES, TABLES, VERSION_NAME
from bots.storage.sql import KEY_CHECK, SQLStore, StoreError
from bots.storage.sql_workers import WORKER_TIMEOUT

#: tables whose rows say who is running now, not what the deployment holds: never copied
LIVE_TABLES = ("workers", "leases", "flood")
#: the tables that make a database "not empty" for `copy`
DATA_TABLES = tuple(t for t in TABLES if t not in ("meta", *LIVE_TABLES))


@dataclass
class Status:
    engine: str
    where: str
    version: int
    latest: int = LATEST
    key: str = "unknown"  # "matches", "another key", "none yet", "unknown"
    rows: dict[str, int] = field(default_factory=dict)
    waiting_updates: int = 0
    workers: list[str] = field(default_factory=list)
    leases: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.version == 0:
            state = "empty (created at the first start)"
        elif self.version < self.latest:
            state = f"older than this bots ({self.latest}): run 'bots db upgrade'"
        elif self.version > self.latest:
            state = f"newer than this bots knows ({self.latest}): run a newer bots"
        else:
            state = "up to date"
        out = [
            f"database: {self.where} ({self.engine})",
            f"schema: version {self.version}, {state}",
        ]
        for number in range(1, min(self.version, self.latest) + 1):
            out.append(f"  {number}: {NOTES[number]}")
        out.append(f"key: {self.key}")
        if self.rows:
            out.append(
                "holds: " + ", ".join(f"{count} {table}" for table, count in self.rows.items() if count)
                if any(self.rows.values())
                else "holds: nothing yet"
            )
            out.append(f"updates waiting to be processed: {self.waiting_updates}")
        out.append(f"workers alive: {len(self.workers)}" + (f" ({', '.join(self.workers)})" if self.workers else ""))
        for name, owner in self.leases:
            out.append(f"  {name}: {owner}")
        return out


async def status(store: SQLStore) -> Status:
    """What `bots db status` shows; the database is opened without changing anything."""
    database = store.database
    await database.open()
    try:
        version = await store.schema_version()
        found = Status(database.engine, database.where, version)
        if version == 0:
            return found
        tables = await database.tables()
        check = await database.fetchval("SELECT value FROM meta WHERE name = ?", (KEY_CHECK,)) if "meta" in tables else None
        if check is None:
            found.key = "none yet (set by the first start)"
        else:
            try:
                store.vault.open(bytes(check), KEY_CHECK)
                found.key = "matches this BOTS_SECRET_KEY" if not store.vault.development else "the public development key"
            except SealBroken:
                found.key = "written with ANOTHER key than the one given"
        for table in DATA_TABLES:
            if table in tables:
                found.rows[table] = int(await database.fetchval(f"SELECT COUNT(*) FROM {table}") or 0)
        if "updates" in tables:
            found.waiting_updates = int(await database.fetchval("SELECT COUNT(*) FROM updates WHERE payload IS NOT NULL") or 0)
        if "workers" in tables:
            now = time.time()
            rows = await database.fetchall(
                "SELECT id FROM workers WHERE alive_at >= ? ORDER BY started_at", (now - WORKER_TIMEOUT,)
            )
            found.workers = [str(row[0]) for row in rows]
            rows = await database.fetchall("SELECT name, owner FROM leases WHERE until >= ? ORDER BY name", (now,))
            found.leases = [(str(row[0]), str(row[1])) for row in rows]
        return found
    finally:
        await database.close()


async def upgrade(store: SQLStore) -> tuple[int, int]:
    """Bring the database to the latest schema: (version before, version now)."""
    database = store.database
    await database.open()
    try:
        before = await store.schema_version()
    finally:
        await database.close()
    await store.initialize(upgrade=True)
    await store.shutdown()
    return before, LATEST


async def columns(database: Database, table: str) -> list[tuple[str, str]]:
    """A table's columns (name, type) in order, without an engine's own arrival column."""
    if database.engine == "sqlite":
        rows = await database.fetchall(f"PRAGMA table_info({table})")
        found = [(str(row[1]), str(row[2]).upper()) for row in rows]
    else:
        rows = await database.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        found = [(str(row[0]), str(row[1]).upper()) for row in rows]
    return [(name, kind) for name, kind in found if name != "arrival"]


def _converter(kind: str) -> Callable[[Any], Any]:
    if kind in ("REAL", "DOUBLE PRECISION"):
        return lambda v: None if v is None else float(v)
    if kind in ("INTEGER", "BIGINT"):
        return lambda v: None if v is None else int(v)
    if kind in ("BLOB", "BYTEA"):
        return lambda v: None if v is None else bytes(v)
    return lambda v: v


async def is_empty(store: SQLStore) -> bool:
    tables = await store.database.tables()
    for table in DATA_TABLES:
        if table in tables and await store.database.fetchval(f"SELECT 1 FROM {table} LIMIT 1") is not None:
            return False
    return True


async def copy(source: SQLStore, target: SQLStore, *, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Copy every row of `source` into the empty `target` (both opened with the same key);
    how many rows of each table. Refuses a target that holds anything."""
    await source.initialize()
    try:
        target.vault = source.vault
        await target.initialize()
        try:
            if not await is_empty(target):
                raise StoreError(
                    f"{target.database.where} already holds data: bots db copy fills only an empty database "
                    "(make a new one, or move that one away)"
                )
            copied: dict[str, int] = {}
            for table in TABLES:
                if table in LIVE_TABLES:
                    continue
                copied[table] = await _copy_table(source, target, table, progress)
            return copied
        finally:
            await target.shutdown()
    finally:
        await source.shutdown()


async def _copy_table(source: SQLStore, target: SQLStore, table: str, progress: Callable[[str, int], None] | None) -> int:
    wanted = await columns(target.database, table)
    have = {name for name, _ in await columns(source.database, table)}
    names = [name for name, _ in wanted if name in have]
    convert = [_converter(kind) for name, kind in wanted if name in have]
    marks = ", ".join("?" * len(names))
    if table == "meta":  # the target has its own version and key check: the source's replace them
        insert = f"INSERT INTO meta ({', '.join(names)}) VALUES ({marks}) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    else:
        insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
    count = 0
    async for batch in source.rows(table, names, batch=2000):
        rows = [tuple(c(v) for c, v in zip(convert, row)) for row in batch]
        if table == "meta":
            rows = [row for row in rows if row[names.index("name")] != VERSION_NAME]
        if rows:
            await target.database.transaction({insert: rows})
        count += len(rows)
        if progress is not None:
            progress(table, count)
    return count
