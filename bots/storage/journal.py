"""The delivery journal: updates received and messages to send, so that nothing is lost or repeated.

Every update is recorded durably (keyed by bot and update_id) before Telegram is told it
arrived; a step's outgoing calls are recorded in the same transaction as the conversation's
new state, and removed once Telegram has accepted them. After a crash, what was received
but not processed is processed, and what was recorded but not sent is sent.
"""

from __future__ import annotations

import abc
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bots.calls import BotApiCall, Delivery

if TYPE_CHECKING:
    from bots.storage.outcome import Outcome


@dataclass(frozen=True)
class IncomingUpdate:
    """One update from Telegram, as received. `chat` routes it (updates of a chat keep their order)."""

    bot: str
    update_id: int
    chat: str
    payload: str


@dataclass(frozen=True)
class OutgoingCall:
    """A journalled Bot API call: `id` in the journal, `seq` its order within the chat's step;
    `params` are the Bot API's own, `delivery` how to deliver it (see `bots.calls`)."""

    id: str
    bot: str
    chat: str
    seq: int
    method: str
    params: dict[str, Any]
    delivery: Delivery = field(default_factory=Delivery)

    @classmethod
    def of(cls, call_id: str, bot: str, seq: int, call: BotApiCall) -> OutgoingCall:
        return cls(call_id, bot, call.chat, seq, call.method, call.params, call.delivery)

    @property
    def call(self) -> BotApiCall:
        return BotApiCall(self.chat, self.method, self.params, self.delivery)

    @property
    def chat_id(self) -> int:
        return self.call.chat_id


def journal_entries(bot: str, calls: Iterable[BotApiCall]) -> list[OutgoingCall]:
    """Journal entries for calls, numbered in order within each chat."""
    seqs: dict[str, int] = {}
    entries = []
    for call in calls:
        seq = seqs[call.chat] = seqs.get(call.chat, -1) + 1
        entries.append(OutgoingCall.of(uuid.uuid4().hex, bot, seq, call))
    return entries


class DeliveryJournal(abc.ABC):
    @abc.abstractmethod
    async def record_updates(self, updates: Sequence[IncomingUpdate], *, now: dt.datetime) -> list[IncomingUpdate]:
        """Record updates durably; return those never seen before (a redelivery is dropped)."""

    @abc.abstractmethod
    async def unprocessed_updates(self, bot: str) -> list[IncomingUpdate]:
        """Updates recorded but not yet processed, in the order they arrived."""

    @abc.abstractmethod
    async def commit(self, outcome: Outcome, *, now: dt.datetime) -> None:
        """In one transaction, what a turn changes (`bots.storage.outcome.Outcome`): save the
        state, mark the update processed (dropping its payload), record the calls to make,
        the handoffs opened or closed, the person's message ids that `/forget` may have to
        delete (and their vanishing schedule), the subscription and the report counters."""

    @abc.abstractmethod
    async def pending_calls(self, bot: str) -> list[OutgoingCall]:
        """Calls recorded but not yet accepted by Telegram, per chat in order."""

    @abc.abstractmethod
    async def call_done(self, call: OutgoingCall) -> None:
        """Telegram accepted the call (or it was given up): forget it."""

    @abc.abstractmethod
    async def drop_calls(self, bot: str, chat: str) -> int:
        """Forget every call queued for a chat (the person blocked the bot)."""

    @abc.abstractmethod
    async def set_blocked(self, bot: str, chat: str, blocked: bool, *, now: dt.datetime) -> None:
        """Remember that the chat blocked (or unblocked) the bot."""

    @abc.abstractmethod
    async def is_blocked(self, bot: str, chat: str) -> bool: ...

    @abc.abstractmethod
    async def file_id(self, bot: str, path: str, digest: str) -> str | None:
        """Telegram's file_id for a document already uploaded with this content."""

    @abc.abstractmethod
    async def remember_file_id(self, bot: str, path: str, digest: str, file_id: str) -> None: ...

    @abc.abstractmethod
    async def purge_journal(self, *, before: dt.datetime) -> int:
        """Forget processed updates received before `before` (kept only to drop redeliveries)."""
