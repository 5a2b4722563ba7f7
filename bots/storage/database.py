"""The two database engines behind the store, behind one small driver interface.

The store's queries are written once, in the SQL both engines speak (`?` placeholders,
`ON CONFLICT`, `IS NOT DISTINCT FROM`); a driver runs them. `SQLiteDatabase` is one
aiosqlite connection in WAL mode (the embedded default); `PostgresDatabase` is an asyncpg
pool, for several processes or machines sharing one database. Differences that SQL cannot
hide are attributes of the driver (`arrival`: the column that orders rows as they came).
"""

from __future__ import annotations

import abc
import asyncio
import functools
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bots.errors import BotsError

Statement = tuple[str, tuple[Any, ...]]
Row = Sequence[Any]


class DatabaseUnavailable(BotsError, RuntimeError):
    """The database cannot be reached or opened; the message says why in one line."""


class Database(abc.ABC):
    """What the store needs from an engine: reads, and writes in one transaction."""

    #: the engine's name, as `bots db status` shows it
    engine: str
    #: the column that orders `updates` and `outbox` rows by arrival
    arrival: str
    #: where the data is, without a password (for messages)
    where: str
    #: several processes may share this database (then nothing may be cached in one)
    shared: bool

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return row[0] if row is not None else None

    async def states(self, bot: str, chats: Sequence[str]) -> dict[str, Any]:
        """The sealed states of these chats of `bot` that exist, by chat."""
        found: dict[str, Any] = {}
        for start in range(0, len(chats), 500):
            part = chats[start : start + 500]
            marks = ",".join("?" * len(part))
            sql = f"SELECT chat, state FROM conversations WHERE bot = ? AND chat IN ({marks})"
            found.update((str(row[0]), row[1]) for row in await self.fetchall(sql, (bot, *part)))
        return found

    @abc.abstractmethod
    async def transaction(self, grouped: dict[str, list[tuple[Any, ...]]]) -> None:
        """Run each statement with each of its parameter rows, in one transaction."""

    @abc.abstractmethod
    async def script(self, sql: str, *, then: Statement | None = None) -> None:
        """Run several statements (a schema migration) in one transaction, and `then` (one
        statement with parameters: the version it brings) in the same one."""

    @abc.abstractmethod
    async def tables(self) -> set[str]:
        """The names of the tables that exist."""


class SQLiteDatabase(Database):
    """One SQLite file through one aiosqlite connection (its own thread, its jobs in order).

    A transaction's statements go to the thread a few at a time: the rows of one INSERT as
    statements of several rows (`_forms`), so that the thread leaves Python (and the GIL, for
    the event loop) once per few dozen rows instead of once per row, and one `executemany`
    per statement otherwise. The write-ahead log is checkpointed right after a commit has been
    reported, at most every CHECKPOINT_EVERY seconds (`_checkpoint`).
    """

    engine = "sqlite"
    arrival = "rowid"
    shared = False

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.synchronous = synchronous
        self._db: aiosqlite.Connection | None = None
        self._checkpointed = time.monotonic()
        self._checkpointing: asyncio.Task[None] | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not initialized: use 'async with store' or call initialize()")
        return self._db

    async def open(self) -> None:
        if self._db is not None:
            return
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # created private, before anything is written to it
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = aiosqlite.connect(self.path, isolation_level=None, cached_statements=256)
        try:
            await db
            await db.executescript(
                "PRAGMA journal_mode=WAL;"
                f"PRAGMA synchronous={self.synchronous};"
                f"PRAGMA wal_autocheckpoint={10 * 1000};"  # a safety net: _checkpoint does it sooner
                "PRAGMA busy_timeout=5000;"
                "PRAGMA secure_delete=ON;"  # what is deleted is overwritten, not left in free pages
            )
        except Exception as err:  # noqa: BLE001 - not a database, unreadable, ...
            await db.close()
            raise DatabaseUnavailable(f"{self.path}: cannot open the database ({err})") from None
        self._db = db

    def make_private(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                os.chmod(candidate, 0o600)

    async def close(self) -> None:
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
            self._checkpointing = None
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self.db.execute_fetchall(sql, tuple(params)))

    async def transaction(self, grouped: dict[str, list[tuple[Any, ...]]]) -> None:
        db = self.db
        await db.execute("BEGIN")
        try:
            for sql, rows in grouped.items():
                for form, many in _forms(sql, rows):
                    await db.executemany(form, many)
            await db.execute("COMMIT")
        except BaseException:
            await self._rollback()
            raise
        self._checkpoint()

    async def script(self, sql: str, *, then: Statement | None = None) -> None:
        db = self.db
        await db.executescript(f"BEGIN;\n{sql}")  # the transaction stays open for `then`
        try:
            if then is not None:
                await db.execute(*then)
            await db.execute("COMMIT")
        except BaseException:
            await self._rollback()
            raise
        self._checkpoint()

    async def _rollback(self) -> None:
        if self._db is not None and self._db.in_transaction:
            try:
                await self._db.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - the original error is what the callers need
                pass

    def _checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database file, at most every
        CHECKPOINT_EVERY seconds, as the connection's next job once the transaction just
        committed has been reported: the steps waiting for it go on meanwhile, and the GIL is
        free while SQLite copies and fsyncs. Left to SQLite, the checkpoint ran inside the
        commit that took the log past 1,000 pages, and that commit (with every step waiting
        for it) took 5-10 ms longer. SQLite's own checkpoint stays, for a log ten times as
        long, in case this one cannot keep up."""
        if time.monotonic() - self._checkpointed < CHECKPOINT_EVERY:
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._checkpointed = time.monotonic()
        self._checkpointing = asyncio.create_task(self._wal_checkpoint())

    async def _wal_checkpoint(self) -> None:
        try:
            if self._db is not None:
                await self._db.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except (sqlite3.Error, ValueError):  # a full disk, a lock held by a backup, closed: the next write says so
            pass

    async def tables(self) -> set[str]:
        rows = await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows}

    async def data_version(self) -> int:
        """Changes when another connection commits to the file (`PRAGMA data_version`)."""
        return int(await self.fetchval("PRAGMA data_version") or 0)


#: seconds between the checkpoints of a connection that is writing (see `SQLiteDatabase._checkpoint`)
CHECKPOINT_EVERY = 0.25


_INSERT_VALUES = re.compile(r"(INSERT\s.*?\sVALUES\s*)(\((?:\s*\?\s*,)*\s*\?\s*\))(.*)", re.IGNORECASE | re.DOTALL)
#: rows of one INSERT sent in statements of these many rows (a few texts per statement, so
#: that the connection's cache of prepared statements keeps them)
_CHUNKS = (64, 16, 4, 1)


def insert_parts(sql: str) -> tuple[str, str, str] | None:
    """`INSERT INTO t (...) VALUES (?, ...) <tail>` as (the head up to VALUES, the row of `?`,
    the tail); None for any other statement, or one with parameters outside the row."""
    match = _INSERT_VALUES.fullmatch(sql.strip())
    if match is None:
        return None
    head, row, tail = match.groups()
    if "?" in head or "?" in tail:
        return None
    return head, row, tail


@functools.lru_cache(maxsize=512)
def _rows_form(sql: str, count: int) -> str | None:
    """`sql`, an INSERT of one row of `?`, as an INSERT of `count` rows (None: not of that form)."""
    parts = insert_parts(sql)
    if parts is None:
        return None
    head, row, tail = parts
    return head + ", ".join([row] * count) + tail


def _forms(sql: str, rows: list[tuple[Any, ...]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """`sql` with each of `rows`, in order, as statements for `executemany`: an INSERT of one
    row as INSERTs of 64, 16, 4 and 1 rows, anything else as it is."""
    if len(rows) == 1 or _rows_form(sql, 1) is None:
        return [(sql, rows)]
    forms: list[tuple[str, list[tuple[Any, ...]]]] = []
    start = 0
    for chunk in _CHUNKS:
        count = (len(rows) - start) // chunk
        if count:
            part = rows[start : start + count * chunk]
            flat = [tuple(v for row in part[i : i + chunk] for v in row) for i in range(0, len(part), chunk)]
            forms.append((_rows_form(sql, chunk) or sql, flat))
            start += count * chunk
    return forms


RETRIES = 3
MIGRATION_LOCK = 0x626F7473  # "bots": the advisory lock that schema migrations take turns on
_PLACEHOLDER = re.compile(r"\?")


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (our SQL has no `?` in literals)."""
    count = 0

    def next_number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(next_number, sql)


def redacted(url: str) -> str:
    """A database URL without its password, for messages and `bots db status`."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def lock_number(name: str) -> int:
    """A stable signed 64-bit number for an advisory lock named `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresDatabase(Database):
    """A PostgreSQL database through an asyncpg pool, shared by every worker."""

    engine = "postgresql"
    arrival = "arrival"
    shared = True

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10) -> None:
        self.url = url
        self.where = redacted(url)
        self.min_size = min_size
        self.max_size = max_size
        self._pool: Any = None
        self._sql: dict[str, str] = {}

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("the store is not initialized: use 'async with store' or call initialize()")
        return self._pool

    def sql(self, text: str) -> str:
        found = self._sql.get(text)
        if found is None:
            found = self._sql[text] = numbered(text)
        return found

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            import asyncpg
        except ImportError:  # pragma: no cover - declared as a dependency
            raise DatabaseUnavailable("PostgreSQL needs the asyncpg package: pip install asyncpg") from None
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self.min_size,
                max_size=self.max_size,
                command_timeout=60,
                server_settings={"application_name": "bots"},
                reset=_keep_as_is,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            raise DatabaseUnavailable(f"{self.where}: cannot connect to PostgreSQL ({type(err).__name__}: {err})") from None

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self.pool.fetch(self.sql(sql), *params))

    async def states(self, bot: str, chats: Sequence[str]) -> dict[str, Any]:
        # one statement whatever the number of chats (an array), so that it is prepared once
        rows = await self.pool.fetch(
            "SELECT chat, state FROM conversations WHERE bot = $1 AND chat = ANY($2::text[])", bot, list(chats)
        )
        return {str(row[0]): row[1] for row in rows}

    async def transaction(self, grouped: dict[str, list[tuple[Any, ...]]]) -> None:
        import asyncpg

        if len(grouped) == 1:
            [(sql, rows)] = grouped.items()
            if len(rows) == 1:  # one statement is its own transaction: no BEGIN and COMMIT to wait for
                await self.pool.execute(self.sql(sql), *rows[0])
                return
        for attempt in range(1, RETRIES + 1):
            try:
                async with self.pool.acquire() as connection, connection.transaction():
                    for sql, rows in grouped.items():
                        if len(rows) == 1:
                            await connection.execute(self.sql(sql), *rows[0])
                        else:
                            await connection.executemany(self.sql(sql), rows)
                return
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
                # two workers' group commits touched the same rows in another order: the
                # server rolled one back, which is safe to run again
                if attempt == RETRIES:
                    raise

    async def script(self, sql: str, *, then: Statement | None = None) -> None:
        # workers starting together on a new database take turns: the second finds the tables made
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await connection.execute(sql)
            if then is not None:
                await connection.execute(self.sql(then[0]), *then[1])

    async def tables(self) -> set[str]:
        rows = await self.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {str(row[0]) for row in rows}


async def _keep_as_is(connection: Any) -> None:
    """A connection goes back to the pool as it is. asyncpg's default reset costs four round
    trips (unlock all, RESET ALL, UNLISTEN, CLOSE ALL) on every release, for state this
    store never leaves on a pooled connection: its transactions are closed by `async with`,
    its advisory locks and LISTEN live on connections of their own, outside the pool's turns."""


def is_postgres_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))
