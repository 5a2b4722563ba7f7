"""What can happen to a conversation: the engine's inputs.

Adapters (Telegram, the terminal, the test runner) turn what a person does into one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: how a handoff ended (`HandoffClosed.how`), which says what the person is told
HandoffEnding = Literal["closed", "returned", "accepted", "declined", "unavailable"]


@dataclass(frozen=True)
class Start:
    """`/start`: begin again from the bot's start flow."""


@dataclass(frozen=True)
class Text:
    """A typed reply. `text` is what the person wrote, untrusted and possibly huge or empty."""

    text: str


@dataclass(frozen=True)
class Press:
    """A button press carrying the button's data, exactly as the client sent it (untrusted)."""

    data: str


@dataclass(frozen=True)
class Back:
    """`/back`: the previous question again, with its answer forgotten."""


@dataclass(frozen=True)
class Help:
    """`/help`: what the bot understands, then the current question again."""


@dataclass(frozen=True)
class EndHandoff:
    """`/end` from the person: leave the conversation with a moderator."""


@dataclass(frozen=True)
class HandoffClosed:
    """The moderators ended the handoff; resume at the handoff node's `next`, or at `resume_at`.

    `how` says what the person is told: `closed` (the conversation ended), `returned`
    (passed back to the bot), `accepted` / `declined` (an application's result: the flow
    goes on at the node's `accept` / `decline`, which say it), or `unavailable` (no
    moderators' chat could take it).
    """

    resume_at: str | None = None
    how: HandoffEnding = "closed"


@dataclass(frozen=True)
class Forget:
    """`/forget`: the person asks the bot to delete everything it keeps about them (asked to confirm)."""


@dataclass(frozen=True)
class QuickExit:
    """`/x` (the bot's `exit_command`): at once, with no question, delete the chat and forget the person."""


@dataclass(frozen=True)
class Subscribe:
    """`/subscribe` (`on`) or `/unsubscribe`: the bot's news."""

    on: bool = True


@dataclass(frozen=True)
class Unsupported:
    """Something the engine cannot read as an answer: a sticker, a photo, a voice message..."""

    kind: str
    #: the file's size in bytes, where Telegram says it (0: unknown)
    size: int = 0


@dataclass(frozen=True)
class Resume:
    """The person is back (the terminal restarted): show the current question again."""


@dataclass(frozen=True)
class ChooseLanguage:
    """`/language`: offer the bot's languages as buttons."""


@dataclass(frozen=True)
class SetLanguage:
    """The person chose another language; the current question is asked again in it."""

    lang: str


Event = (
    Start
    | Text
    | Press
    | Back
    | Help
    | EndHandoff
    | HandoffClosed
    | Unsupported
    | SetLanguage
    | Resume
    | ChooseLanguage
    | Forget
    | Subscribe
    | QuickExit
)

COMMANDS: dict[str, Event] = {
    "start": Start(),
    "back": Back(),
    "help": Help(),
    "end": EndHandoff(),
    "language": ChooseLanguage(),
    "forget": Forget(),
    "subscribe": Subscribe(True),
    "unsubscribe": Subscribe(False),
}


def event_from_text(text: str, exit_command: str = "x") -> Event:
    """Map a typed line to an event: `/start`, `/back`, `/help`, `/end`, `/language`
    (also `/start@MaraBot args`), the bot's quick exit (`/x`), or text."""
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        word = stripped[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
        if word == exit_command:
            return QuickExit()
        command = COMMANDS.get(word)
        if command is not None:
            return command
    return Text(text)
