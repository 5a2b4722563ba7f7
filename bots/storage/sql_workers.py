"""What several workers on one database share, mixed into the SQL store: who is alive
(heartbeats), who does what (leases), whose unsent calls are whose (owners, taken over from
a dead worker), the conversation's lock, and flood control kept in the database.

On SQLite only one process runs the bots, so most of this is trivially true there (the lock
is the process's own); PostgreSQL overrides what needs the server (advisory locks, a row
lock for the flood rule, LISTEN/NOTIFY).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from typing import Any

from bots.storage.base import ConversationKey
from bots.storage.database import Database, Statement
from bots.storage.flood import Verdict, decide
from bots.storage.journal import OutgoingCall

#: a worker that has not said it is alive for this long is taken for dead: its calls and
#: leases go to the others
WORKER_TIMEOUT = 10.0

CALL_COLUMNS = "id, chat, seq, method, params, delivery"


class SQLWorkers(abc.ABC):
    """Mixed into the SQL store, which provides `database`, `_write`, `_calls`, `_exists`,
    `_local_lock`, `worker` and `alone`."""

    database: Database
    worker: str
    alone: bool

    @property
    @abc.abstractmethod
    def shared(self) -> bool: ...

    @abc.abstractmethod
    async def _write(self, statements: list[Statement], *, alone: bool = False) -> None: ...

    @abc.abstractmethod
    def _calls(self, bot: str, rows: Sequence[Sequence[Any]]) -> list[OutgoingCall]: ...

    #: this process's own lock of a conversation (from `ConversationStore`)
    _local_lock: Callable[[ConversationKey], asyncio.Lock]

    # --- calls with an owner ----------------------------------------------------------------

    async def adopt_calls(
        self, bot: str, *, everything: bool = False, now: float | None = None, busy: Collection[str] = ()
    ) -> list[OutgoingCall]:
        """Take over the calls nobody alive is sending (journalled by a worker that died, by
        `bots forget`, or before owners were recorded), claimed before they are returned:
        each call is given to one worker only. With `everything` (the only process on the
        database, starting), every call not already this worker's. The chats in `busy` (this
        worker is sending to them) are left out: their next call takes them over first, in
        order (`calls_before`)."""
        alive_since = (now if now is not None else time.time()) - WORKER_TIMEOUT
        if everything:
            rows = await self.database.fetchall("SELECT id, owner, chat FROM outbox WHERE bot = ?", (bot,))
        else:
            rows = await self.database.fetchall(
                "SELECT id, owner, chat FROM outbox WHERE bot = ? AND (owner IS NULL OR owner NOT IN "
                "(SELECT id FROM workers WHERE alive_at >= ?))",
                (bot, alive_since),
            )
        rows = [row for row in rows if row[1] != self.worker and row[2] not in busy]
        if not rows:
            return []
        await self._write(
            [
                ("UPDATE outbox SET owner = ? WHERE id = ? AND owner IS NOT DISTINCT FROM ?", (self.worker, row[0], row[1]))
                for row in rows
            ],
            alone=True,
        )
        ids = [str(row[0]) for row in rows]
        taken: list[Sequence[Any]] = []
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            taken += await self.database.fetchall(
                f"SELECT {CALL_COLUMNS} FROM outbox WHERE owner = ? AND id IN ({','.join('?' * len(part))}) "
                f"ORDER BY {self.database.arrival}",
                (self.worker, *part),
            )
        return self._calls(bot, taken)

    async def calls_before(self, call: OutgoingCall) -> list[OutgoingCall] | None:
        """On a shared database, the chat's calls journalled before `call` by other workers,
        which must go first so that the chat's messages keep their order: None while a
        live worker still has some (wait and ask again); otherwise those of dead workers,
        taken over now (send them first), usually none."""
        if not self.shared or self.alone:
            return []
        arrival = self.database.arrival
        rows = await self.database.fetchall(
            f"SELECT id, owner FROM outbox WHERE bot = ? AND chat = ? AND owner IS DISTINCT FROM ? "
            f"AND {arrival} < (SELECT {arrival} FROM outbox WHERE id = ?) ORDER BY {arrival}",
            (call.bot, call.chat, self.worker, call.id),
        )
        if not rows:
            return []
        alive = {worker for worker, _ in await self.workers()}
        if any(row[1] in alive for row in rows):
            return None
        await self._write(
            [
                ("UPDATE outbox SET owner = ? WHERE id = ? AND owner IS NOT DISTINCT FROM ?", (self.worker, row[0], row[1]))
                for row in rows
            ],
            alone=True,
        )
        ids = [str(row[0]) for row in rows]
        taken = await self.database.fetchall(
            f"SELECT {CALL_COLUMNS} FROM outbox WHERE owner = ? AND id IN ({','.join('?' * len(ids))}) ORDER BY {arrival}",
            (self.worker, *ids),
        )
        if len(taken) < len(ids):
            return None  # another worker took some of them: they are live again, wait for them
        return self._calls(call.bot, taken)

    # --- workers and leases ---------------------------------------------------------------

    async def heartbeat(self, *, now: float | None = None) -> None:
        """Say that this worker is alive (every few seconds while it runs), and look whether
        it is alone: no other worker alive, no call of another in the journal."""
        at = now if now is not None else time.time()
        await self._write(
            [
                (
                    "INSERT INTO workers (id, started_at, alive_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET alive_at = excluded.alive_at",
                    (self.worker, at, at),
                )
            ],
        )
        if self.shared:
            others = await self.database.fetchval(
                "SELECT COUNT(*) FROM workers WHERE id <> ? AND alive_at >= ?", (self.worker, at - 2 * WORKER_TIMEOUT)
            )
            foreign = await self.database.fetchval("SELECT 1 FROM outbox WHERE owner IS DISTINCT FROM ? LIMIT 1", (self.worker,))
            self.alone = not others and foreign is None

    async def leave(self) -> None:
        """This worker stops: its leases are free at once, its calls go to the others."""
        await self._write(
            [
                ("DELETE FROM leases WHERE owner = ?", (self.worker,)),
                ("DELETE FROM workers WHERE id = ?", (self.worker,)),
                ("DELETE FROM workers WHERE alive_at < ?", (time.time() - 86400,)),
            ],
            alone=True,
        )

    async def take_lease(self, name: str, *, ttl: float, now: float | None = None) -> bool:
        """Hold the lease `name` for `ttl` seconds (or keep holding it): True if this worker
        holds it now. A lease whose holder stopped renewing it is taken over when it expires."""
        at = now if now is not None else time.time()
        await self._write(
            [
                (
                    "INSERT INTO leases (name, owner, until) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                    "WHERE leases.owner = excluded.owner OR leases.until < ?",
                    (name, self.worker, at + ttl, at),
                )
            ],
            alone=True,
        )
        return await self.database.fetchval("SELECT owner FROM leases WHERE name = ?", (name,)) == self.worker

    async def drop_lease(self, name: str) -> None:
        await self._write([("DELETE FROM leases WHERE name = ? AND owner = ?", (name, self.worker))], alone=True)

    async def lease_holder(self, name: str, *, now: float | None = None) -> str | None:
        at = now if now is not None else time.time()
        value = await self.database.fetchval("SELECT owner FROM leases WHERE name = ? AND until >= ?", (name, at))
        return str(value) if value is not None else None

    async def workers(self, *, now: float | None = None) -> list[tuple[str, float]]:
        """The workers alive now, with when each last said so."""
        at = now if now is not None else time.time()
        rows = await self.database.fetchall(
            "SELECT id, alive_at FROM workers WHERE alive_at >= ? ORDER BY started_at", (at - WORKER_TIMEOUT,)
        )
        return [(str(row[0]), float(row[1])) for row in rows]

    # --- the chat lock ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def try_lock(self, key: ConversationKey) -> AsyncIterator[bool]:
        """Like `lock`, without waiting: yields False (holding nothing) when another task or
        worker has the conversation now."""
        lock = self._local_lock(key)
        if lock.locked():
            yield False
            return
        async with lock:
            if not await self._lock_shared(key, wait=False):
                yield False
                return
            try:
                yield True
            finally:
                await self._unlock_shared(key)

    @contextlib.asynccontextmanager
    async def _held(self, key: ConversationKey) -> AsyncIterator[None]:
        async with self._local_lock(key):
            await self._lock_shared(key, wait=True)
            try:
                yield
            finally:
                await self._unlock_shared(key)

    def lock(self, key: ConversationKey) -> contextlib.AbstractAsyncContextManager[Any]:
        if not self.shared:  # one process on the database: its own lock is the whole lock
            return self._local_lock(key)
        return self._held(key)

    async def _lock_shared(self, key: ConversationKey, *, wait: bool) -> bool:
        """Take the conversation's lock among workers (nothing to do when not shared)."""
        return True

    async def _unlock_shared(self, key: ConversationKey) -> None:
        return None

    async def flood_check(self, bot: str, chat: str, *, limit: int, window: float, pause: float, now: float) -> Verdict:
        """Flood control kept in the database, the same whichever worker an update reached
        (`bots run` on one process keeps it in memory instead: `FloodGuard`). Here the
        chat's row is read and written under this process's lock; PostgreSQL locks the row."""
        async with self._local_lock(ConversationKey(f"flood\0{bot}", chat)):
            row = await self.database.fetchone("SELECT times, until FROM flood WHERE bot = ? AND chat = ?", (bot, chat))
            times = [t for t in json.loads(row[0]) if now - t < window] if row is not None else []
            verdict, until = decide(times, float(row[1]) if row is not None else 0.0, now, limit, window, pause)
            await self._write(
                [
                    (
                        "INSERT INTO flood (bot, chat, times, until, seen_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (bot, chat) DO UPDATE SET times = excluded.times, until = excluded.until, seen_at = excluded.seen_at",
                        (bot, chat, json.dumps(times), until, now),
                    )
                ]
            )
        return verdict

    def inbox_listener(self, callback: Any) -> None:
        """Call `callback(bot)` when another worker records updates (PostgreSQL only)."""
