"""Which messages of a person's chat the bot could still delete, and forgetting a person.

Telegram lets a bot delete messages in a private chat (its own and the person's) for 48
hours. So that `/forget` can clear the chat, the ids of those messages (numbers that mean
nothing without the chat, which is only a keyed hash here) are kept for 48 hours.
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bots.storage.database import Database, insert_parts
from bots.storage.journal import IncomingUpdate, OutgoingCall
from bots.storage.sql_news import news_forget_statements
from bots.storage.sql_vanish import Vanish, vanish_forget_statements

DELETABLE_FOR = dt.timedelta(hours=48)
REMEMBER = "INSERT INTO messages (bot, chat, message_id, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"

Statement = tuple[str, tuple[Any, ...]]


@functools.lru_cache(maxsize=16)
def while_journalled(insert: str) -> str:
    """An INSERT of one row of `?` (`bots.storage.database.insert_parts`) made to insert only
    while the outbox holds the call whose id is one more parameter, after the row's."""
    parts = insert_parts(insert)
    if parts is None:
        raise ValueError(f"not an INSERT of one row of parameters: {insert[:60]}")
    head, row, tail = parts
    values = head.rstrip()[: -len("VALUES")].rstrip()
    return f"{values} SELECT {row.strip()[1:-1]} WHERE EXISTS (SELECT 1 FROM outbox WHERE id = ?){tail}"


class SQLMessages(abc.ABC):
    """Mixed into the SQL store, which provides `database`, `_write` and the other tables."""

    database: Database

    @abc.abstractmethod
    async def _write(self, statements: list[Statement], *, alone: bool = False) -> None: ...

    @abc.abstractmethod
    def _forget_cached(self, bot: str, chat: str) -> None: ...

    @abc.abstractmethod
    def _call_statement(self, call: OutgoingCall, now: dt.datetime) -> Statement: ...

    if TYPE_CHECKING:  # provided by SQLVanish

        def vanish_statements(
            self, bot: str, chat: str, vanish: Vanish, message_ids: Sequence[int], *, now: dt.datetime
        ) -> list[Statement]: ...

    async def remember_messages(
        self,
        bot: str,
        chat: str,
        message_ids: Sequence[int],
        *,
        now: dt.datetime,
        vanish: Vanish | None = None,
        journalled: str | None = None,
    ) -> None:
        """Keep the ids for /forget; with `vanish`, also schedule them to vanish (sql_vanish).
        With `journalled` (the id of the call that sent them), only while that call is still
        in the journal: a person forgotten while the call was with Telegram (their calls went
        with every other row) leaves no row behind."""
        statements: list[Statement] = [(REMEMBER, (bot, chat, int(m), now.timestamp())) for m in message_ids]
        if vanish is not None:
            statements += self.vanish_statements(bot, chat, vanish, message_ids, now=now)
        if journalled is not None:
            statements = [(while_journalled(sql), (*args, journalled)) for sql, args in statements]
        await self._write(statements)

    async def recent_messages(self, bot: str, chat: str, *, now: dt.datetime) -> list[int]:
        """The chat's messages the bot may still delete (under 48 hours old), oldest first."""
        since = (now - DELETABLE_FOR).timestamp()
        return [
            int(row[0])
            for row in await self.database.fetchall(
                "SELECT message_id FROM messages WHERE bot = ? AND chat = ? AND at >= ? ORDER BY message_id", (bot, chat, since)
            )
        ]

    async def purge_messages(self, *, now: dt.datetime) -> None:
        await self._write([("DELETE FROM messages WHERE at < ?", ((now - DELETABLE_FOR).timestamp(),))], alone=True)

    async def forget_chat(
        self,
        bot: str,
        chat: str,
        *,
        update: IncomingUpdate | None,
        calls: Sequence[OutgoingCall],
        now: dt.datetime,
    ) -> None:
        """Delete every row about the person, in one transaction, and record the calls that
        clear their chat and their handoffs' topics (removed once sent, like any call)."""
        handoffs = "SELECT id FROM handoffs WHERE bot = ? AND chat = ?"
        statements: list[Statement] = [
            ("DELETE FROM conversations WHERE bot = ? AND chat = ?", (bot, chat)),
            ("DELETE FROM outbox WHERE bot = ? AND chat = ?", (bot, chat)),
            ("DELETE FROM blocked_chats WHERE bot = ? AND chat = ?", (bot, chat)),
            (f"DELETE FROM relays WHERE handoff IN ({handoffs})", (bot, chat)),
            ("DELETE FROM handoffs WHERE bot = ? AND chat = ?", (bot, chat)),
            ("DELETE FROM messages WHERE bot = ? AND chat = ?", (bot, chat)),
            ("DELETE FROM flood WHERE bot = ? AND chat = ?", (bot, chat)),
            # the records that keep updates from being processed twice stay, without the chat
            ("UPDATE updates SET chat = '', payload = NULL WHERE bot = ? AND chat = ?", (bot, chat)),
        ]
        if update is not None:
            statements.append(
                ("UPDATE updates SET chat = '', payload = NULL WHERE bot = ? AND update_id = ?", (bot, update.update_id))
            )
        statements += news_forget_statements(bot, chat)
        statements += vanish_forget_statements(bot, chat)
        statements += [self._call_statement(call, now) for call in calls]
        self._forget_cached(bot, chat)
        await self._write(statements, alone=True)
        self._forget_cached(bot, chat)
