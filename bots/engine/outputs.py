"""What the engine asks adapters to do: its outputs.

Texts are Telegram-flavoured HTML (`<b>`, `<i>`, `<a href>`; person-supplied values are
escaped). Button labels are plain text. Adapters decide how to show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: who ended a handoff (`CloseHandoff.by`): the person with /end, a moderator, or the person's /start
ClosedBy = Literal["person", "moderator", "restart"]


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Say:
    """Show `text`; with `buttons` it is a question waiting for a press.

    `replace` asks the adapter to update the last question in place (a ticked option of a
    `multiple` choice) rather than send a new message, where it can.
    """

    text: str
    buttons: tuple[Button, ...] = ()
    document: str | None = None
    replace: bool = False


@dataclass(frozen=True)
class Chosen:
    """The person answered the last question by pressing `label` (Telegram edits that message)."""

    label: str


@dataclass(frozen=True)
class OpenHandoff:
    """Pass the conversation to a person. `answers` excludes values marked sensitive.

    `application` is true when the moderators decide (Accept / Decline) rather than chat.
    """

    flow: str
    node: str
    topic: str
    answers: dict[str, Any] = field(default_factory=dict)
    application: bool = False


@dataclass(frozen=True)
class CloseHandoff:
    """The handoff ended (`by` is "person" (/end), "moderator" or "restart" (/start))."""

    by: ClosedBy


@dataclass(frozen=True)
class Relay:
    """The person wrote while a handoff is open: copy it to the moderators.

    `kind` is `text`, or what else they sent (`photo`, `sticker`...) for the adapter to copy.
    """

    text: str
    kind: str = "text"


@dataclass(frozen=True)
class ConversationEnded:
    """The conversation reached an `end` node (or its start flow finished)."""

    outcome: str | None


@dataclass(frozen=True)
class ForgetMe:
    """The person confirmed `/forget`: the adapter deletes everything about them (the state
    too: it must not be saved after this step), then tells them it is done."""


@dataclass(frozen=True)
class ExitNow:
    """The quick exit: the adapter deletes every message it can in the chat (deletions before
    anything else), forgets the person as for ForgetMe, and leaves one harmless line."""


@dataclass(frozen=True)
class VanishChosen:
    """The person chose how old their chat's messages may get (`seconds`; 0: they stay)."""

    seconds: int


@dataclass(frozen=True)
class Metric:
    """Add `value` to an aggregate counter of today (reports); never names the person."""

    name: str
    key: str = ""
    value: float = 1.0


@dataclass(frozen=True)
class Subscription:
    """The person asked for the news (`on`) or to stop it."""

    on: bool


@dataclass(frozen=True)
class Problem:
    """Something in the flow failed at run time; for the log, never shown to the person.

    `where` is `bot/flow:node` (`bot/canned:NAME` for a canned reply); `detail` names the failure
    without any person's data.
    """

    where: str
    detail: str


Output = (
    Say
    | Chosen
    | OpenHandoff
    | CloseHandoff
    | Relay
    | ConversationEnded
    | ForgetMe
    | Metric
    | Subscription
    | Problem
    | ExitNow
    | VanishChosen
)
