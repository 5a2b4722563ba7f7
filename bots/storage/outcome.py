"""What one turn changes, as a value: collected without I/O, committed in one transaction.

The Telegram edge turns an update into an `Outcome` (the conversation's new state, the calls
to make, handoff changes, counters, the person's message to remember and schedule, the news
subscription) and hands it to `SQLStore.commit`; nothing of a turn is written before that,
so a crash leaves either all of it or none, and the update is marked done in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bots.engine.state import ConversationState
from bots.storage.base import ConversationKey
from bots.storage.handoffs import HandoffChange
from bots.storage.journal import IncomingUpdate, OutgoingCall
from bots.storage.sql_counters import Count
from bots.storage.sql_vanish import Statement, Vanish


@dataclass(frozen=True)
class Subscribed:
    """The person's news subscription after the turn: `on` (in `lang`), off, or in a new
    `lang` if they are subscribed (their language changed: the news follows it)."""

    how: Literal["on", "off", "language"]
    person: int
    lang: str


@dataclass(frozen=True)
class Outcome:
    """Everything one turn writes. `key` and `state` are the conversation's, when the turn
    stepped one; `bot` names the bot whose counters count when there is no conversation."""

    update: IncomingUpdate | None = None
    key: ConversationKey | None = None
    state: ConversationState | None = None
    calls: Sequence[OutgoingCall] = ()
    handoffs: Sequence[HandoffChange] = ()
    #: the person's message ids to remember (for /forget and the vanishing schedule)
    messages: Sequence[int] = ()
    counts: Sequence[Count] = ()
    bot: str | None = None
    #: the person's messages vanish: (their chat id, after how many seconds)
    vanish: Vanish | None = None
    #: the person chose another delay: what the bot knows of their chat follows it
    reschedule: Vanish | None = None
    subscription: Subscribed | None = None
    #: more rows of the same transaction (a schedule's done rows)
    extra: Sequence[Statement] = field(default=())
    #: the person is forgotten: every row about them goes (`key`), and only `calls` are journalled
    forget: bool = False

    @classmethod
    def done(cls, update: IncomingUpdate | None, calls: Sequence[OutgoingCall] = ()) -> Outcome:
        """A turn that changes no conversation: the update is done, with these calls."""
        return cls(update=update, calls=calls)
