"""Handoffs: conversations passed to the moderators' chat, and the messages relayed there.

A handoff is opened and closed in the same transaction as the conversation step that
opened or closed it (`commit(Outcome(handoffs=[...]))`), so the person's state and the
moderators' view never disagree after a crash. The topic and card ids are filled in when
Telegram has created them. Relayed copies are remembered so that a moderator's reply to one
reaches the person (in groups without topics) and so that they can be deleted later.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Handoff:
    """One conversation passed to the moderators. `chat` is the person's chat key (a keyed
    hash), `person` their chat id; `mod_chat` the moderators' chat key."""

    id: str
    bot: str
    chat: str
    alias: str  # the person's pseudonym for the moderators
    flow: str
    node: str
    topic: str
    lang: str
    application: bool
    mod_chat: str
    opened_at: float
    thread: int | None = None  # the forum topic, once created
    card: int | None = None  # the card's message id, once posted
    first_reply_at: float | None = None
    claimed_by: str | None = None
    claimed_at: float | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    #: the person's Telegram chat id, to reach them (sealed at rest; `chat` is its keyed hash)
    person: int = 0

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Opened:
    handoff: Handoff


@dataclass(frozen=True)
class Closed:
    handoff_id: str
    by: str
    at: dt.datetime
    #: when it was opened (for the closing time in reports)
    opened_at: float | None = None


HandoffChange = Opened | Closed


class HandoffStore(abc.ABC):
    """What the Telegram adapter needs to remember about handoffs."""

    @abc.abstractmethod
    async def handoff(self, handoff_id: str) -> Handoff | None: ...

    @abc.abstractmethod
    async def open_handoff_of(self, bot: str, chat: str) -> Handoff | None:
        """The person's open handoff, if any."""

    @abc.abstractmethod
    async def handoff_by_thread(self, bot: str, mod_chat: str, thread: int) -> Handoff | None: ...

    @abc.abstractmethod
    async def handoff_by_message(self, bot: str, mod_chat: str, message_id: int) -> Handoff | None:
        """The handoff a message in the moderators' chat belongs to (a card or a relayed copy)."""

    @abc.abstractmethod
    async def open_handoffs(self, bot: str) -> list[Handoff]:
        """Open handoffs, oldest first."""

    @abc.abstractmethod
    async def set_handoff_place(self, handoff_id: str, *, thread: int | None = None, card: int | None = None) -> None:
        """Remember the topic or the card once Telegram created it (`thread=0` forgets the topic)."""

    @abc.abstractmethod
    async def claim_handoff(self, handoff_id: str, by: str, *, now: dt.datetime) -> bool:
        """Mark it claimed by `by` (a moderator's first name); False if it was closed."""

    @abc.abstractmethod
    async def mark_first_reply(self, handoff_id: str, *, now: dt.datetime) -> None: ...

    @abc.abstractmethod
    async def remember_relay(self, bot: str, mod_chat: str, message_id: int, handoff_id: str) -> None: ...

    @abc.abstractmethod
    async def relayed_messages(self, handoff_id: str) -> list[int]:
        """Ids of the messages posted for this handoff in the moderators' chat."""

    @abc.abstractmethod
    async def forget_closed_handoffs(self, bot: str, *, before: dt.datetime) -> int:
        """Delete handoffs closed before `before`, with their relay records."""
