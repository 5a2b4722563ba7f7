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
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from bots.storage.base import ConversationKey
from bots.storage.database import PostgresDatabase, Statement, lock_number
from bots.storage.journal import IncomingUpdate
from bots.storage.sql import SQLStore
from bots.telegram.flood import Verdict, decide
from bots.vault import Vault

log = logging.getLogger(__name__)

INBOX_CHANNEL = "bots_inbox"
LOCK_POLL = (0.002, 0.05)  # first and longest wait between tries of a held lock


class PostgresConversationStore(SQLStore):
    """Conversations, the journal and the workers' coordination in PostgreSQL."""

    def __init__(self, url: str, *, vault: Vault | None = None, pool_size: int = 10) -> None:
        self.postgres = PostgresDatabase(url, max_size=pool_size)
        super().__init__(self.postgres, vault=vault)
        self.url = url
        self.location = url
        self._locker: Any = None  # the connection that holds this worker's chat locks
        self._locker_busy = asyncio.Lock()
        self._listener: Any = None
        self._listeners: list[Callable[[str], None]] = []

    async def _opened_hook(self) -> None:
        self._locker = await self.postgres.pool.acquire()

    async def _closing_hook(self) -> None:
        if self._listener is not None:
            await asyncio.gather(self._listener.close(), return_exceptions=True)
            self._listener = None
        if self._locker is not None:
            locker, self._locker = self._locker, None
            await asyncio.gather(locker.execute("SELECT pg_advisory_unlock_all()"), return_exceptions=True)
            await asyncio.gather(self.postgres.pool.release(locker), return_exceptions=True)

    # --- the chat lock among workers -------------------------------------------------------

    async def _locker_call(self, sql: str, number: int) -> Any:
        async with self._locker_busy:
            if self._locker is None or self._locker.is_closed():
                # the connection went away, and with it every lock it held: start afresh
                log.warning("the connection holding this worker's chat locks was lost: reconnecting")
                self._locker = await self.postgres.pool.acquire()
            return await self._locker.fetchval(sql, number)

    async def _lock_shared(self, key: ConversationKey, *, wait: bool) -> bool:
        number = lock_number(f"chat\0{key.bot}\0{key.chat}")
        pause = LOCK_POLL[0]
        while True:
            if await self._locker_call("SELECT pg_try_advisory_lock($1)", number):
                return True
            if not wait:
                return False
            await asyncio.sleep(pause)  # another worker has the chat: it is one step, not long
            pause = min(pause * 2, LOCK_POLL[1])

    async def _unlock_shared(self, key: ConversationKey) -> None:
        number = lock_number(f"chat\0{key.bot}\0{key.chat}")
        await self._locker_call("SELECT pg_advisory_unlock($1)", number)

    # --- flood control shared by the workers ----------------------------------------------

    async def flood_check(self, bot: str, chat: str, *, limit: int, window: float, pause: float, now: float) -> Verdict:
        """The flood verdict on one update of a chat, the same whichever worker received it:
        the chat's recent update times are read and written under a row lock."""
        async with self.postgres.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO flood (bot, chat, times, until, seen_at) VALUES ($1, $2, '[]', 0, $3) ON CONFLICT DO NOTHING",
                bot, chat, now,
            )
            row = await connection.fetchrow("SELECT times, until FROM flood WHERE bot = $1 AND chat = $2 FOR UPDATE", bot, chat)
            times = [t for t in json.loads(row["times"]) if now - t < window]
            verdict, until = decide(times, float(row["until"]), now, limit, window, pause)
            await connection.execute(
                "UPDATE flood SET times = $3, until = $4, seen_at = $5 WHERE bot = $1 AND chat = $2",
                bot, chat, json.dumps(times), until, now,
            )
        return verdict

    # --- telling the others about new updates --------------------------------------------

    def _record_statements(self, fresh: Sequence[IncomingUpdate], now: dt.datetime) -> list[Statement]:
        bots = sorted({u.bot for u in fresh})
        return super()._record_statements(fresh, now) + [("SELECT pg_notify(?, ?)", (INBOX_CHANNEL, bot)) for bot in bots]

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
