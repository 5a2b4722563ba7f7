"""Vanishing chats: which messages of a person's chat are to be deleted, and when.

A bot with `vanish_after:` (or a person who chose it under /help) has every message of the
chat, theirs and the bot's, deleted once it is that old. The schedule is durable, so that a
restart or a crash loses no deletion: one row per message with the chat's keyed hash, the
message id (a number that means nothing without the chat), when to delete it, and the chat
id sealed (to make the call). A row is removed in the transaction that journals its deletion,
so nothing is kept once it is done; `/forget` and the quick exit remove the chat's rows too.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bots.privacy.vault import Vault
from bots.storage.database import Database

#: Telegram lets a bot delete a private chat's messages for 48 hours: an older row can only fail
DELETABLE_FOR = 48 * 3600.0
SCHEDULE = (
    "INSERT INTO vanishing (bot, chat, message_id, delete_at, person) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (bot, chat, message_id) DO UPDATE SET delete_at = excluded.delete_at"
)

Statement = tuple[str, tuple[Any, ...]]
#: (the person's chat id, seconds after which their chat's messages vanish)
Vanish = tuple[int, float]


@dataclass(frozen=True)
class Due:
    """Messages of one chat whose time has come."""

    chat: str
    person: int
    message_ids: tuple[int, ...]


def person_context(bot: str, chat: str) -> str:
    return f"vanish\0{bot}\0{chat}"


def vanish_forget_statements(bot: str, chat: str) -> list[Statement]:
    """What `/forget` (and the quick exit) removes of the schedule."""
    return [("DELETE FROM vanishing WHERE bot = ? AND chat = ?", (bot, chat))]


class SQLVanish(abc.ABC):
    """Mixed into the SQL store, which provides `database`, `vault` and `_write`."""

    database: Database
    vault: Vault

    @abc.abstractmethod
    async def _write(self, statements: list[Statement], *, alone: bool = False) -> None: ...

    def vanish_statements(
        self, bot: str, chat: str, vanish: Vanish, message_ids: Sequence[int], *, now: dt.datetime
    ) -> list[Statement]:
        """Rows that schedule `message_ids` of the chat to vanish `vanish[1]` seconds from `now`
        (to ride in another write's transaction)."""
        if not message_ids:
            return []
        person, seconds = vanish
        sealed = self.vault.seal_text(str(int(person)), person_context(bot, chat))
        at = now.timestamp() + seconds
        return [(SCHEDULE, (bot, chat, int(m), at, sealed)) for m in message_ids]

    def reschedule_statements(self, bot: str, chat: str, vanish: Vanish, *, now: dt.datetime) -> list[Statement]:
        """The person chose another delay (0 seconds: never): the chat's messages the bot
        still knows of are scheduled from when each was sent (to ride in the turn's write)."""
        person, seconds = vanish
        if seconds <= 0:
            return vanish_forget_statements(bot, chat)
        sealed = self.vault.seal_text(str(int(person)), person_context(bot, chat))
        return [
            (
                "INSERT INTO vanishing (bot, chat, message_id, delete_at, person) "
                "SELECT bot, chat, message_id, at + ?, ? FROM messages WHERE bot = ? AND chat = ? AND at >= ? "
                "ON CONFLICT (bot, chat, message_id) DO UPDATE SET delete_at = excluded.delete_at",
                (float(seconds), sealed, bot, chat, now.timestamp() - DELETABLE_FOR),
            )
        ]

    async def reschedule_vanishing(self, bot: str, chat: str, vanish: Vanish | None, *, now: dt.datetime) -> None:
        """`reschedule_statements` on their own (None: never)."""
        await self._write(self.reschedule_statements(bot, chat, vanish or (0, 0), now=now), alone=True)

    async def due_vanishing(self, bot: str, *, now: dt.datetime, limit: int = 1000) -> list[Due]:
        """The messages to delete now, by chat, the longest overdue first."""
        rows = await self.database.fetchall(
            "SELECT chat, message_id, person FROM vanishing WHERE bot = ? AND delete_at <= ? ORDER BY delete_at LIMIT ?",
            (bot, now.timestamp(), limit),
        )
        ids: dict[str, list[int]] = {}
        people: dict[str, int] = {}
        for chat, message_id, person in rows:
            key = str(chat)
            ids.setdefault(key, []).append(int(message_id))
            if key not in people:
                people[key] = int(self.vault.open_text(bytes(person), person_context(bot, key)))
        return [Due(chat, people[chat], tuple(sorted(found))) for chat, found in ids.items()]

    def vanished_statements(self, bot: str, due: Due) -> list[Statement]:
        """Rows to remove once the deletion of `due` is journalled: its schedule, and the
        message ids `/forget` would otherwise try again."""
        statements: list[Statement] = []
        for message_id in due.message_ids:
            statements.append(
                ("DELETE FROM vanishing WHERE bot = ? AND chat = ? AND message_id = ?", (bot, due.chat, message_id))
            )
            statements.append(("DELETE FROM messages WHERE bot = ? AND chat = ? AND message_id = ?", (bot, due.chat, message_id)))
        return statements

    async def purge_vanishing(self, *, now: dt.datetime) -> None:
        """Rows whose messages Telegram no longer lets anyone delete (the bots were stopped for days)."""
        await self._write([("DELETE FROM vanishing WHERE delete_at < ?", (now.timestamp() - DELETABLE_FOR,))], alone=True)

    async def vanishing_count(self, bot: str, chat: str | None = None) -> int:
        """How many messages wait to vanish (of one chat, or of the bot)."""
        if chat is None:
            value = await self.database.fetchval("SELECT COUNT(*) FROM vanishing WHERE bot = ?", (bot,))
        else:
            value = await self.database.fetchval("SELECT COUNT(*) FROM vanishing WHERE bot = ? AND chat = ?", (bot, chat))
        return int(value or 0)
