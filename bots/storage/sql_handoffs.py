"""The SQL side of `HandoffStore` (tables in `bots.storage.schema`), and the statements a step commits."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from typing import Any

from bots.privacy.vault import Vault
from bots.storage.database import Database
from bots.storage.handoffs import Closed, Handoff, HandoffChange, HandoffStore, Opened

COLUMNS = (
    "id, bot, chat, alias, flow, node, topic, lang, application, mod_chat, opened_at, thread, card, "
    "first_reply_at, claimed_by, claimed_at, closed_at, closed_by, person"
)
Statement = tuple[str, tuple[Any, ...]]


def _context(handoff_id: str, field: str) -> str:
    return f"handoff\0{handoff_id}\0{field}"


def _row(vault: Vault, row: Sequence[Any]) -> Handoff:
    values = list(row)
    handoff_id = values[0]
    values[6] = vault.open_text(bytes(values[6]), _context(handoff_id, "topic"))
    values[8] = bool(values[8])
    if values[14] is not None:
        values[14] = vault.open_text(bytes(values[14]), _context(handoff_id, "claimed_by"))
    values[18] = int(vault.open_text(bytes(values[18]), _context(handoff_id, "person")))
    return Handoff(*values)


def handoff_statements(vault: Vault, changes: Sequence[HandoffChange]) -> list[Statement]:
    """The statements that record `changes` (run in the step's own transaction)."""
    statements: list[Statement] = []
    for change in changes:
        if isinstance(change, Opened):
            h = change.handoff
            statements.append(
                (
                    f"INSERT INTO handoffs ({COLUMNS}) VALUES ({', '.join('?' * 19)})",
                    (
                        h.id,
                        h.bot,
                        h.chat,
                        h.alias,
                        h.flow,
                        h.node,
                        vault.seal_text(h.topic, _context(h.id, "topic")),
                        h.lang,
                        int(h.application),
                        h.mod_chat,
                        h.opened_at,
                        h.thread,
                        h.card,
                        h.first_reply_at,
                        vault.seal_text(h.claimed_by, _context(h.id, "claimed_by")) if h.claimed_by else None,
                        h.claimed_at,
                        h.closed_at,
                        h.closed_by,
                        vault.seal_text(str(h.person), _context(h.id, "person")),
                    ),
                )
            )
        elif isinstance(change, Closed):
            statements.append(
                (
                    "UPDATE handoffs SET closed_at = ?, closed_by = ? WHERE id = ? AND closed_at IS NULL",
                    (change.at.timestamp(), change.by, change.handoff_id),
                )
            )
    return statements


class SQLHandoffs(HandoffStore):
    """Mixed into the SQL store, which provides `database` and `_write`."""

    database: Database

    @abc.abstractmethod
    async def _write(self, statements: list[Statement], *, alone: bool = False) -> None: ...

    vault: Vault

    async def _one(self, where: str, params: tuple[Any, ...]) -> Handoff | None:
        row = await self.database.fetchone(f"SELECT {COLUMNS} FROM handoffs WHERE {where}", params)
        return _row(self.vault, row) if row else None

    async def handoff(self, handoff_id: str) -> Handoff | None:
        return await self._one("id = ?", (handoff_id,))

    async def open_handoff_of(self, bot: str, chat: str) -> Handoff | None:
        return await self._one("bot = ? AND chat = ? AND closed_at IS NULL ORDER BY opened_at DESC LIMIT 1", (bot, chat))

    async def handoff_by_thread(self, bot: str, mod_chat: str, thread: int) -> Handoff | None:
        return await self._one("bot = ? AND mod_chat = ? AND thread = ? ORDER BY opened_at DESC LIMIT 1", (bot, mod_chat, thread))

    async def handoff_by_message(self, bot: str, mod_chat: str, message_id: int) -> Handoff | None:
        found = await self._one("bot = ? AND mod_chat = ? AND card = ?", (bot, mod_chat, message_id))
        if found is not None:
            return found
        row = await self.database.fetchone(
            "SELECT handoff FROM relays WHERE bot = ? AND mod_chat = ? AND message_id = ?", (bot, mod_chat, message_id)
        )
        return await self.handoff(row[0]) if row else None

    async def handoffs_of(self, bot: str, chat: str) -> list[Handoff]:
        """Every handoff of a person, open or closed, oldest first."""
        return [
            _row(self.vault, row)
            for row in await self.database.fetchall(
                f"SELECT {COLUMNS} FROM handoffs WHERE bot = ? AND chat = ? ORDER BY opened_at", (bot, chat)
            )
        ]

    async def open_handoffs(self, bot: str) -> list[Handoff]:
        return [
            _row(self.vault, row)
            for row in await self.database.fetchall(
                f"SELECT {COLUMNS} FROM handoffs WHERE bot = ? AND closed_at IS NULL ORDER BY opened_at", (bot,)
            )
        ]

    async def set_handoff_place(self, handoff_id: str, *, thread: int | None = None, card: int | None = None) -> None:
        if thread is not None:
            await self._write([("UPDATE handoffs SET thread = ? WHERE id = ?", (thread or None, handoff_id))], alone=True)
        if card is not None:
            await self._write([("UPDATE handoffs SET card = ? WHERE id = ?", (card, handoff_id))], alone=True)

    async def claim_handoff(self, handoff_id: str, by: str, *, now: dt.datetime) -> bool:
        found = await self.handoff(handoff_id)
        if found is None or not found.is_open:
            return False
        await self._write(
            [
                (
                    "UPDATE handoffs SET claimed_by = ?, claimed_at = ? WHERE id = ?",
                    (self.vault.seal_text(by, _context(handoff_id, "claimed_by")), now.timestamp(), handoff_id),
                )
            ],
            alone=True,
        )
        return True

    async def mark_first_reply(self, handoff_id: str, *, now: dt.datetime) -> None:
        await self._write(
            [("UPDATE handoffs SET first_reply_at = ? WHERE id = ? AND first_reply_at IS NULL", (now.timestamp(), handoff_id))],
            alone=True,
        )

    async def remember_relay(self, bot: str, mod_chat: str, message_id: int, handoff_id: str) -> None:
        await self._write(
            [
                (
                    "INSERT INTO relays (bot, mod_chat, message_id, handoff) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (bot, mod_chat, message_id) DO UPDATE SET handoff = excluded.handoff",
                    (bot, mod_chat, message_id, handoff_id),
                )
            ]
        )

    async def relayed_messages(self, handoff_id: str) -> list[int]:
        return [
            int(row[0])
            for row in await self.database.fetchall(
                "SELECT message_id FROM relays WHERE handoff = ? ORDER BY message_id", (handoff_id,)
            )
        ]

    async def forget_closed_handoffs(self, bot: str, *, before: dt.datetime) -> int:
        ids = [
            row[0]
            for row in await self.database.fetchall(
                "SELECT id FROM handoffs WHERE bot = ? AND closed_at IS NOT NULL AND closed_at < ?", (bot, before.timestamp())
            )
        ]
        if ids:
            await self._write(
                [("DELETE FROM relays WHERE handoff = ?", (i,)) for i in ids]
                + [("DELETE FROM handoffs WHERE id = ?", (i,)) for i in ids],
                alone=True,
            )
        return len(ids)
