"""The two database engines behind the store, behind one small driver interface.

The store's queries are written once, in the SQL both engines speak (`?` placeholders,
`ON CONFLICT`, `IS NOT DISTINCT FROM`); a driver runs them. `SQLiteDatabase` is one
sqlite3 connection in WAL mode, in a thread of its own (the embedded default); `PostgresDatabase` is an asyncpg
pool, for several processes or machines sharing one database. Differences that SQL cannot
hide are attributes of the driver (`arrival`: the column that orders rows as they came).
"""

from __future__ import annotations

import abc
import asyncio
import functools
import hashlib
import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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
    """One SQLite file through one connection, which lives in a thread of its own.

    Each call is one job for that thread, whole: a read with its rows, a transaction from
    BEGIN to COMMIT (`transaction`), so that a call waits for one hand-off to the thread and
    one back, not one per statement. Rows of one INSERT statement are sent together as one
    statement of several rows (`_many`): the thread then leaves Python (and the GIL, for the
    event loop) once per few dozen rows instead of once per row. The thread checkpoints the
    write-ahead log itself, between jobs (`_SQLiteThread._checkpoint`).
    """

    engine = "sqlite"
    arrival = "rowid"
    shared = False

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.synchronous = synchronous
        self._thread: _SQLiteThread | None = None

    async def open(self) -> None:
        if self._thread is not None:
            return
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # created private, before anything is written to it
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        thread = _SQLiteThread(self.path)
        try:
            await thread.run(_open, self.synchronous)
        except Exception as err:  # noqa: BLE001 - not a database, unreadable, ...
            await thread.stop()
            raise DatabaseUnavailable(f"{self.path}: cannot open the database ({err})") from None
        self._thread = thread

    @property
    def thread(self) -> _SQLiteThread:
        if self._thread is None:
            raise RuntimeError("the store is not initialized: use 'async with store' or call initialize()")
        return self._thread

    def make_private(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                os.chmod(candidate, 0o600)

    async def close(self) -> None:
        if self._thread is not None:
            thread, self._thread = self._thread, None
            await thread.stop()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self.thread.run(_fetchall, sql, tuple(params))

    async def transaction(self, grouped: dict[str, list[tuple[Any, ...]]]) -> None:
        await self.thread.run(_transaction, grouped)

    async def script(self, sql: str, *, then: Statement | None = None) -> None:
        await self.thread.run(_script, sql, then)

    async def tables(self) -> set[str]:
        rows = await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows}

    async def data_version(self) -> int:
        """Changes when another connection commits to the file (`PRAGMA data_version`)."""
        return int(await self.fetchval("PRAGMA data_version") or 0)


class _SQLiteThread:
    """A thread that owns one sqlite3 connection and runs jobs on it, one after the other;
    each job's outcome is handed to the event loop that asked for it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._connection: sqlite3.Connection | None = None
        self._stopped = False
        self._checkpointed = time.monotonic()
        # a daemon: a process that ends without closing its store is not kept alive by it
        # (a commit is atomic in the file whenever the thread stops)
        self._thread = threading.Thread(target=self._work, name=f"sqlite {path.name}", daemon=True)
        self._thread.start()

    async def run(self, job: Callable[..., Any], *args: Any) -> Any:
        """`job(connection, *args)` in the thread; its result, or its exception raised here."""
        if self._stopped:
            raise RuntimeError("the database is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put((future, job, args))
        return await future

    async def stop(self) -> None:
        """Close the connection once the jobs before it have run, and end the thread."""
        if self._stopped:
            return
        try:
            await self.run(_CLOSE)
        finally:
            self._stopped = True
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            future, job, args = item
            try:
                if job is _CLOSE:
                    connection, self._connection = self._connection, None
                    if connection is not None:
                        connection.close()
                    result = None
                else:
                    if job is _open:
                        self._connection = sqlite3.connect(self.path, isolation_level=None, cached_statements=256)
                    if self._connection is None:
                        raise RuntimeError("the database is closed")
                    result = job(self._connection, *args)
            except BaseException as err:  # noqa: BLE001 - handed to whoever waits for it
                _settle(future, _fail, err)
            else:
                _settle(future, _succeed, result)
            if job is _transaction or job is _script:
                self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database file, at most every
        CHECKPOINT_EVERY seconds, once the transaction just committed has been reported: the
        steps waiting for it go on meanwhile, and the GIL is free while SQLite copies and
        fsyncs. Left to SQLite, the checkpoint ran inside the commit that took the log past
        1,000 pages, and that commit (with every step waiting for it) took 5-10 ms longer.
        The next job waits for it, as it waited for that commit. SQLite's own checkpoint
        stays, for a log ten times as long, in case this one cannot keep up."""
        since = time.monotonic() - self._checkpointed
        if since < CHECKPOINT_EVERY or (self._jobs.qsize() and since < 4 * CHECKPOINT_EVERY):
            return  # a job waiting goes first, unless the log has grown for a second
        self._checkpointed = time.monotonic()
        try:
            if self._connection is not None:
                self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:  # a full disk, a lock held by a backup: the next write finds out, and says so
            pass


#: seconds between the checkpoints of a connection that is writing (see `_SQLiteThread._checkpoint`)
CHECKPOINT_EVERY = 0.25

_Job = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


def _settle(future: asyncio.Future[Any], how: Callable[[asyncio.Future[Any], Any], None], outcome: Any) -> None:
    """Hand a job's outcome to the loop that waits for it (from the connection's thread)."""
    try:
        future.get_loop().call_soon_threadsafe(how, future, outcome)
    except RuntimeError:  # that loop is closed: nobody waits any more, and the thread goes on
        pass


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the caller may have been cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], err: BaseException) -> None:
    if not future.done():
        future.set_exception(err)


# --- the jobs, run in the connection's thread ------------------------------------------------


def _open(connection: sqlite3.Connection, synchronous: str) -> None:
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute(f"PRAGMA wal_autocheckpoint={10 * 1000}")  # a safety net: _SQLiteThread._checkpoint does it sooner
    connection.execute("PRAGMA busy_timeout=5000")
    connection.execute("PRAGMA secure_delete=ON")  # what is deleted is overwritten, not left in free pages


def _CLOSE(connection: sqlite3.Connection) -> None:  # noqa: N802 - a marker: the thread closes the connection itself
    raise AssertionError("not run")


def _fetchall(connection: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Row]:
    return connection.execute(sql, params).fetchall()


def _transaction(connection: sqlite3.Connection, grouped: dict[str, list[tuple[Any, ...]]]) -> None:
    connection.execute("BEGIN")
    try:
        for sql, rows in grouped.items():
            _many(connection, sql, rows)
        connection.execute("COMMIT")
    except BaseException:
        _rollback(connection)
        raise


def _script(connection: sqlite3.Connection, sql: str, then: Statement | None) -> None:
    connection.executescript(f"BEGIN;\n{sql}")  # the transaction stays open for `then`
    try:
        if then is not None:
            connection.execute(*then)
        connection.execute("COMMIT")
    except BaseException:
        _rollback(connection)
        raise


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:  # the original error is what the callers need
            pass


_INSERT_VALUES = re.compile(r"(INSERT\s.*?\sVALUES\s*)(\((?:\s*\?\s*,)*\s*\?\s*\))(.*)", re.IGNORECASE | re.DOTALL)
#: rows of one INSERT sent in statements of these many rows (a few texts per statement, so
#: that the connection's cache of prepared statements keeps them)
_CHUNKS = (64, 16, 4, 1)


@functools.lru_cache(maxsize=512)
def _rows_form(sql: str, count: int) -> str | None:
    """`sql`, an INSERT of one row of `?`, as an INSERT of `count` rows (None: not of that form)."""
    match = _INSERT_VALUES.fullmatch(sql.strip())
    if match is None:
        return None
    head, row, tail = match.groups()
    if "?" in head or "?" in tail:  # parameters outside the row: they would not repeat with it
        return None
    return head + ", ".join([row] * count) + tail


def _many(connection: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """`sql` with each of `rows`, in order, as executemany would."""
    if len(rows) == 1:
        connection.execute(sql, rows[0])
        return
    if _rows_form(sql, 1) is None:
        connection.executemany(sql, rows)
        return
    start = 0
    for chunk in _CHUNKS:
        while len(rows) - start >= chunk:
            part = rows[start : start + chunk]
            connection.execute(_rows_form(sql, chunk) or sql, [value for row in part for value in row])
            start += chunk


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
