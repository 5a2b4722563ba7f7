"""PostgreSQL: one database shared by several workers (processes, machines).

Everything the SQLite store does, on asyncpg, plus what sharing needs: a conversation's lock
is a PostgreSQL advisory lock (held on one connection of this worker, so a worker that dies
lets go of its chats at once), and recording updates notifies the other workers
(`LISTEN`/`NOTIFY`) so that any of them may process them. Nothing is cached in the process:
a write by one worker is what the next read by any other sees.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from bots.privacy.vault import Vault
from bots.storage.base import ConversationKey
from bots.storage.database import DatabaseUnavailable, PostgresDatabase, lock_number
from bots.storage.flood import Verdict
from bots.storage.journal import IncomingUpdate
from bots.storage.sql import SQLStore, _update_context

log = logging.getLogger(__name__)

INBOX_CHANNEL = "bots_inbox"
LOCK_POLL = (0.002, 0.05)
LOCKERS = 4  # first and longest wait between tries of a held lock


class PostgresConversationStore(SQLStore):
    """Conversations, the journal and the workers' coordination in PostgreSQL."""

    def __init__(self, url: str, *, vault: Vault | None = None, pool_size: int = 10) -> None:
        self.postgres = PostgresDatabase(url, max_size=pool_size)
        super().__init__(self.postgres, vault=vault)
        self.url = url
        self.location = url
        #: the connections that hold this worker's chat locks: a chat's lock is always taken and
        #: let go on the same one (its number's), and a few of them spread the round trips
        self._lockers: list[Any] = [None] * LOCKERS
        #: lock and unlock calls waiting for their connection, sent together (`_locker_call`),
        #: by the connection's sender (one at a time on a connection)
        self._locker_asked: list[list[tuple[str, int, asyncio.Future[bool]]]] = [[] for _ in range(LOCKERS)]
        self._locker_senders: list[asyncio.Task[None] | None] = [None] * LOCKERS
        self._shared_held: set[ConversationKey] = set()  # chats whose advisory lock this worker holds
        self._listener: Any = None
        self._listeners: list[Callable[[str], None]] = []

    async def _opened_hook(self) -> None:
        for index in range(LOCKERS):
            await self._connect_locker(index)

    async def _connect_locker(self, index: int) -> Any:
        import asyncpg

        self._lockers[index] = await asyncpg.connect(self.url, server_settings={"application_name": "bots locks"})
        return self._lockers[index]

    async def _closing_hook(self) -> None:
        if self._listener is not None:
            await asyncio.gather(self._listener.close(), return_exceptions=True)
            self._listener = None
        lockers, self._lockers = self._lockers, [None] * LOCKERS  # their advisory locks go with them
        await asyncio.gather(*(c.close(timeout=5) for c in lockers if c is not None), return_exceptions=True)

    # --- the chat lock among workers -------------------------------------------------------

    async def _locker_call(self, function: str, number: int) -> bool:
        """`function` (pg_try_advisory_lock or pg_advisory_unlock) of the chat's lock number, on
        the connection that holds this chat's lock. One query at a time runs on it; the calls
        asked for meanwhile, for any chats, go together in the next one (a round trip for
        them all: the chats stepped in one turn of the event loop each take and let go of
        their lock)."""
        index = number % LOCKERS
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._locker_asked[index].append((function, number, done))
        if self._locker_senders[index] is None:
            # a task of its own, so that a caller cancelled meanwhile stops no other chat's call
            self._locker_senders[index] = asyncio.create_task(self._locker_sender(index))
        return await done

    async def _locker_sender(self, index: int) -> None:
        try:
            while self._locker_asked[index]:
                asked, self._locker_asked[index] = self._locker_asked[index], []
                try:
                    await self._locker_send(index, asked)
                except Exception as err:  # noqa: BLE001 - each caller learns of it
                    for _, _, future in asked:
                        if not future.done():
                            future.set_exception(err)
                except BaseException:  # cancelled (the loop is closing): no caller waits forever
                    for _, _, future in asked:
                        future.cancel()
                    raise
        finally:
            self._locker_senders[index] = None

    async def _locker_send(self, index: int, asked: list[tuple[str, int, asyncio.Future[bool]]]) -> None:
        """The calls in `asked`, in their order: one query for each run of calls of one function."""
        locker = self._lockers[index]
        if locker is None or locker.is_closed():
            # the connection went away, and with it every lock it held: start afresh
            log.warning("a connection holding this worker's chat locks was lost: connecting again")
            locker = await self._connect_locker(index)
        start = 0
        while start < len(asked):
            function = asked[start][0]
            end = start
            while end < len(asked) and asked[end][0] == function:
                end += 1
            run = asked[start:end]
            try:
                rows = await locker.fetch(f"SELECT n, {function}(n) FROM unnest($1::bigint[]) AS t(n)", [n for _, n, _ in run])
            except (OSError, ConnectionError) as err:
                self._lockers[index] = None  # the next call connects again
                raise DatabaseUnavailable(f"{self.postgres.where}: the connection was lost ({type(err).__name__})") from err
            except Exception:
                if locker.is_closed():
                    self._lockers[index] = None
                raise
            results = {int(row[0]): bool(row[1]) for row in rows}
            for _, number, future in run:
                if not future.done():
                    future.set_result(results[number])
            start = end

    async def _lock_shared(self, key: ConversationKey, *, wait: bool) -> bool:
        if self.alone:
            # no other worker: this process's own lock is enough (a worker that joins waits
            # until this one has seen it, see `bots.telegram.app.run_bots`)
            return True
        number = lock_number(f"chat\0{key.bot}\0{key.chat}")
        pause = LOCK_POLL[0]
        while True:
            if await self._locker_call("pg_try_advisory_lock", number):
                self._shared_held.add(key)
                return True
            if not wait:
                return False
            await asyncio.sleep(pause)  # another worker has the chat: it is one step, not long
            pause = min(pause * 2, LOCK_POLL[1])

    async def _unlock_shared(self, key: ConversationKey) -> None:
        if key not in self._shared_held:
            return
        self._shared_held.discard(key)
        number = lock_number(f"chat\0{key.bot}\0{key.chat}")
        await self._locker_call("pg_advisory_unlock", number)

    # --- flood control shared by the workers ----------------------------------------------

    async def flood_check(self, bot: str, chat: str, *, limit: int, window: float, pause: float, now: float) -> Verdict:
        """The flood verdict on one update of a chat, the same whichever worker received it:
        one call of the database's `bots_flood` (the chat's row locked while it decides)."""
        verdict = await self.postgres.fetchval(
            "SELECT bots_flood(?, ?, ?, ?, ?, ?)", (bot, chat, float(now), int(limit), float(window), float(pause))
        )
        return Verdict(verdict)

    # --- recording updates: once, in one round trip, telling the others -------------------

    async def record_updates(self, updates: Sequence[IncomingUpdate], *, now: dt.datetime) -> list[IncomingUpdate]:
        """Record updates; those this worker recorded first (not a redelivery, nor another
        worker's copy) are returned, and every worker is told there are updates waiting."""
        if not updates:
            return []
        unique = list({(u.bot, u.update_id): u for u in updates}.values())
        at = now.timestamp()
        rows = await self.postgres.fetchall(
            "WITH new AS (INSERT INTO updates (bot, update_id, chat, payload, received_at) "
            "SELECT * FROM unnest(?::TEXT[], ?::BIGINT[], ?::TEXT[], ?::BYTEA[], ?::DOUBLE PRECISION[]) "
            "ON CONFLICT (bot, update_id) DO NOTHING RETURNING bot, update_id) "
            "SELECT new.bot, new.update_id, pg_notify(?, new.bot) FROM new",
            (
                [u.bot for u in unique],
                [u.update_id for u in unique],
                [u.chat for u in unique],
                [self.vault.seal_text(u.payload, _update_context(u.bot, u.update_id)) for u in unique],
                [at] * len(unique),
                INBOX_CHANNEL,
            ),
        )
        fresh = {(str(row[0]), int(row[1])) for row in rows}
        return [u for u in unique if (u.bot, u.update_id) in fresh]

    # --- telling the others about new updates --------------------------------------------

    def inbox_listener(self, callback: Callable[[str], None]) -> None:
        self._listeners.append(callback)
        if self._listener is None:
            asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        import asyncpg

        try:
            self._listener = await asyncpg.connect(self.url)
            await self._listener.add_listener(INBOX_CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError) as err:
            log.warning("cannot listen for other workers' updates (%s): they are picked up every few seconds", type(err).__name__)

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        for callback in self._listeners:
            callback(payload)
