"""Who asked for news (`/subscribe`), and the bookkeeping that makes a broadcast resumable.

- `subscribers`: one row per person who opted in, under the chat's keyed hash, with their
  chat id sealed (to send to them) and their language. `/unsubscribe`, a 403 during a
  broadcast and `/forget` delete the row.
- `broadcasts`: one row per message broadcast by a bot, named by the SHA-256 of the news
  file: when it started and finished, who is sending it now (so that two processes never
  send the same message), and once finished only the counts (sent, blocked, failed...).
- `deliveries`: while a broadcast runs, one row per person it is for: the chat's keyed hash
  and a status, nothing else. `pending` → `sending` (written before the message goes out)
  → `sent`, `blocked` or `failed`; a row still `sending` after a crash may have been
  delivered and is never sent again. The rows of a broadcast are deleted when it finishes.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bots.privacy.vault import Vault
from bots.storage.database import Database
from bots.storage.outcome import Subscribed

Statement = tuple[str, tuple[Any, ...]]

SUBSCRIBE = (
    "INSERT INTO subscribers (bot, chat, person, lang, since) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (bot, chat) DO UPDATE SET person = excluded.person, lang = excluded.lang"
)
UNSUBSCRIBE = "DELETE FROM subscribers WHERE bot = ? AND chat = ?"
SET_STATUS = "UPDATE deliveries SET status = ? WHERE bot = ? AND digest = ? AND chat = ?"
STATUSES = ("pending", "sending", "sent", "blocked", "failed", "unsure", "gone")


def person_context(bot: str, chat: str) -> str:
    return f"subscriber\0{bot}\0{chat}"


def news_forget_statements(bot: str, chat: str) -> list[Statement]:
    """Delete every row about one person in the news tables (for `/forget`)."""
    return [
        (UNSUBSCRIBE, (bot, chat)),
        ("DELETE FROM deliveries WHERE bot = ? AND chat = ?", (bot, chat)),
    ]


@dataclass(frozen=True)
class BroadcastRecord:
    """A broadcast as the database holds it."""

    bot: str
    digest: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    total: int
    owner: str | None
    alive_at: float | None
    counts: dict[str, int]  # by status (live from the deliveries, or the final counts once finished)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class Recipient:
    """A person a broadcast is for, ready to send to: their chat key, chat id and language."""

    chat: str
    chat_id: int
    lang: str


def _time(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.timezone.utc)


class SQLNews(abc.ABC):
    """Mixed into the SQL store, which provides `database`, `_write` and `vault`."""

    database: Database

    @abc.abstractmethod
    async def _write(self, statements: list[Statement], *, alone: bool = False) -> None: ...

    vault: Vault

    # --- subscribers ------------------------------------------------------------------------

    def subscription_statements(self, bot: str, chat: str, change: Subscribed, *, now: dt.datetime) -> list[Statement]:
        """A turn's change to the person's subscription, to ride in the turn's write."""
        if change.how == "off":
            return [(UNSUBSCRIBE, (bot, chat))]
        if change.how == "language":
            return [("UPDATE subscribers SET lang = ? WHERE bot = ? AND chat = ?", (change.lang, bot, chat))]
        sealed = self.vault.seal_text(str(int(change.person)), person_context(bot, chat))
        return [(SUBSCRIBE, (bot, chat, sealed, change.lang, now.timestamp()))]

    async def subscribe(self, bot: str, chat: str, person: int, lang: str, *, now: dt.datetime) -> bool:
        """Add a subscriber (or update their language); True if they were not subscribed."""
        existed = await self.is_subscribed(bot, chat)
        sealed = self.vault.seal_text(str(int(person)), person_context(bot, chat))
        await self._write([(SUBSCRIBE, (bot, chat, sealed, lang, now.timestamp()))])
        return not existed

    async def unsubscribe(self, bot: str, chat: str) -> bool:
        """Remove a subscriber; True if they were subscribed."""
        existed = await self.is_subscribed(bot, chat)
        if existed:
            await self._write([(UNSUBSCRIBE, (bot, chat))])
        return existed

    async def is_subscribed(self, bot: str, chat: str) -> bool:
        return await self.database.fetchone("SELECT 1 FROM subscribers WHERE bot = ? AND chat = ?", (bot, chat)) is not None

    async def subscriber_count(self, bot: str) -> int:
        row = await self.database.fetchone("SELECT COUNT(*) FROM subscribers WHERE bot = ?", (bot,))
        return int(row[0]) if row else 0

    async def subscribers_by_lang(self, bot: str) -> dict[str, int]:
        """How many subscribers speak each language."""
        return {
            str(row[0]): int(row[1])
            for row in await self.database.fetchall("SELECT lang, COUNT(*) FROM subscribers WHERE bot = ? GROUP BY lang", (bot,))
        }

    # --- broadcasts ---------------------------------------------------------------------------

    async def broadcast_record(self, bot: str, digest: str) -> BroadcastRecord | None:
        row = await self.database.fetchone(
            "SELECT started_at, finished_at, total, owner, alive_at, sent, blocked, failed, crashed, unsure, gone "
            "FROM broadcasts WHERE bot = ? AND digest = ?",
            (bot, digest),
        )
        if row is None:
            return None
        started, finished, total, owner, alive = row[0], row[1], int(row[2]), row[3], row[4]
        if finished is not None:
            counts = dict(zip(("sent", "blocked", "failed", "sending", "unsure", "gone"), (int(v) for v in row[5:])))
        else:
            counts = await self.delivery_counts(bot, digest)
        started_at = dt.datetime.fromtimestamp(started, dt.timezone.utc)  # NOT NULL
        return BroadcastRecord(bot, digest, started_at, _time(finished), total, owner, alive, counts)

    async def unfinished_broadcasts(self, bot: str) -> list[BroadcastRecord]:
        digests = [
            str(row[0])
            for row in await self.database.fetchall(
                "SELECT digest FROM broadcasts WHERE bot = ? AND finished_at IS NULL ORDER BY started_at", (bot,)
            )
        ]
        found = [await self.broadcast_record(bot, digest) for digest in digests]
        return [record for record in found if record is not None]

    async def start_broadcast(self, bot: str, digest: str, *, now: dt.datetime) -> None:
        """Record a broadcast and a `pending` delivery for every current subscriber, in one
        transaction. Nothing happens if the broadcast is already recorded: the people it is
        for were fixed when it first started."""
        await self._write(
            [
                (
                    "INSERT INTO broadcasts (bot, digest, started_at, total) "
                    "VALUES (?, ?, ?, (SELECT COUNT(*) FROM subscribers WHERE bot = ?)) ON CONFLICT DO NOTHING",
                    (bot, digest, now.timestamp(), bot),
                ),
                (
                    "INSERT INTO deliveries (bot, digest, chat, status) "
                    "SELECT bot, ?, chat, 'pending' FROM subscribers "
                    "WHERE bot = ? AND NOT EXISTS (SELECT 1 FROM broadcasts WHERE bot = ? AND digest = ? AND started_at != ?) "
                    "ON CONFLICT DO NOTHING",
                    (digest, bot, bot, digest, now.timestamp()),
                ),
            ],
            alone=True,
        )

    async def claim_broadcast(
        self, bot: str, digest: str, owner: str, *, seen: tuple[str | None, float | None], now: float
    ) -> bool:
        """Become the one process sending this broadcast, if its owner is still `seen` (as
        read just before: compare and swap). True if it is now ours."""
        before_owner, before_alive = seen
        await self._write(
            [
                (
                    "UPDATE broadcasts SET owner = ?, alive_at = ? "
                    "WHERE bot = ? AND digest = ? AND finished_at IS NULL AND owner IS NOT DISTINCT FROM ? AND alive_at IS NOT DISTINCT FROM ?",
                    (owner, now, bot, digest, before_owner, before_alive),
                )
            ],
            alone=True,
        )
        row = await self.database.fetchone("SELECT owner FROM broadcasts WHERE bot = ? AND digest = ?", (bot, digest))
        return row is not None and row[0] == owner

    async def broadcast_alive(self, bot: str, digest: str, owner: str, *, now: float) -> None:
        await self._write(
            [("UPDATE broadcasts SET alive_at = ? WHERE bot = ? AND digest = ? AND owner = ?", (now, bot, digest, owner))]
        )

    async def release_broadcast(self, bot: str, digest: str, owner: str) -> None:
        await self._write(
            [
                (
                    "UPDATE broadcasts SET owner = NULL, alive_at = NULL WHERE bot = ? AND digest = ? AND owner = ?",
                    (bot, digest, owner),
                )
            ],
            alone=True,
        )

    async def delivery_counts(self, bot: str, digest: str) -> dict[str, int]:
        return {
            str(row[0]): int(row[1])
            for row in await self.database.fetchall(
                "SELECT status, COUNT(*) FROM deliveries WHERE bot = ? AND digest = ? GROUP BY status", (bot, digest)
            )
        }

    async def pending_recipients(
        self, bot: str, digest: str, *, after: str = "", limit: int = 500
    ) -> tuple[list[Recipient], list[str], str]:
        """The next `pending` deliveries in chat-key order after `after`: the people to send to,
        the chat keys of those no longer subscribed (unsubscribed or forgotten since the
        broadcast started), and the key to continue after ("" when there are no more)."""
        rows = await self.database.fetchall(
            "SELECT d.chat, s.person, s.lang FROM deliveries d "
            "LEFT JOIN subscribers s ON s.bot = d.bot AND s.chat = d.chat "
            "WHERE d.bot = ? AND d.digest = ? AND d.status = 'pending' AND d.chat > ? ORDER BY d.chat LIMIT ?",
            (bot, digest, after, limit),
        )
        recipients: list[Recipient] = []
        gone: list[str] = []
        for chat, person, lang in rows:
            if person is None:
                gone.append(str(chat))
                continue
            chat_id = int(self.vault.open_text(bytes(person), person_context(bot, str(chat))))
            recipients.append(Recipient(str(chat), chat_id, str(lang)))
        last = str(rows[-1][0]) if rows else ""
        return recipients, gone, last

    async def set_delivery(
        self, bot: str, digest: str, chats: Sequence[str], status: str, *, extra: Sequence[Statement] = ()
    ) -> None:
        """Set the status of deliveries, durably (writes arriving together share a commit);
        `extra` statements go in the same transaction."""
        if status not in STATUSES:
            raise ValueError(f"'{status}' is not a delivery status; one of: {', '.join(STATUSES)}")
        await self._write([(SET_STATUS, (status, bot, digest, chat)) for chat in chats] + list(extra))

    async def finish_broadcast(self, bot: str, digest: str, *, now: dt.datetime) -> dict[str, int]:
        """Keep only the counts of a broadcast with nothing left to send: its delivery rows
        are deleted in the same transaction. Returns the counts."""
        counts = await self.delivery_counts(bot, digest)
        await self._write(
            [
                (
                    "UPDATE broadcasts SET finished_at = ?, owner = NULL, alive_at = NULL, "
                    "sent = ?, blocked = ?, failed = ?, crashed = ?, unsure = ?, gone = ? WHERE bot = ? AND digest = ?",
                    (
                        now.timestamp(),
                        counts.get("sent", 0),
                        counts.get("blocked", 0),
                        counts.get("failed", 0),
                        counts.get("sending", 0),
                        counts.get("unsure", 0),
                        counts.get("gone", 0),
                        bot,
                        digest,
                    ),
                ),
                ("DELETE FROM deliveries WHERE bot = ? AND digest = ?", (bot, digest)),
            ],
            alone=True,
        )
        return counts

    async def drop_broadcast(self, bot: str, digest: str, *, now: dt.datetime) -> dict[str, int]:
        """Give up an unfinished broadcast: it is closed with what it achieved so far (the
        people it had not reached yet count as `gone`) and its delivery rows deleted."""
        await self._write(
            [("UPDATE deliveries SET status = 'gone' WHERE bot = ? AND digest = ? AND status = 'pending'", (bot, digest))],
            alone=True,
        )
        return await self.finish_broadcast(bot, digest, now=now)
