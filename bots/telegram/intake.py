"""The first stage of a turn: what an update is, decided from the update alone (no I/O).

`read_update` makes PTB's `Update` of a stored one (or refuses it: `Unreadable`), `chat_of`
names its chat straight from the JSON (for ordering, before it is read), and `classify` sorts
it into one of five inputs; the runner handles each (`BotRunner.process`). Only a
`PersonInput` reaches the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot, Message, Update

from bots.engine import events as ev
from bots.telegram.render import Pressed

#: what a message that is not text is called for the engine (`Unsupported.kind`), in order
ATTACHMENTS = ("sticker", "photo", "document", "voice", "video", "audio", "location", "contact")


class Unreadable(Exception):
    """An update the bot cannot read (a shape it does not know, a field of the wrong type):
    trying again reads the same bytes, so it is skipped at once. The message is its type."""


def read_update(payload: dict[str, object], bot: Bot) -> Update:
    """PTB's `Update` of a stored update, or `Unreadable`. PTB does not check the types of
    what it keeps as is: the text and the button's data reach the engine, so they are checked."""
    kind = next((k for k in payload if k != "update_id"), "empty")
    try:
        update = Update.de_json(payload, bot)
    except Exception:  # noqa: BLE001 - TypeError, KeyError, AttributeError, ValueError: all a bad shape
        raise Unreadable(kind) from None
    message, query = update.message, update.callback_query
    if (message is not None and not isinstance(message.text, (str, type(None)))) or (
        query is not None and not isinstance(query.data, (str, type(None)))
    ):
        raise Unreadable(kind)
    return update


def chat_of(payload: dict[str, object]) -> str:
    """The chat an update belongs to (for ordering), straight from its JSON."""
    for key in ("message", "edited_message", "my_chat_member", "chat_member"):
        part = payload.get(key)
        if isinstance(part, dict) and isinstance(part.get("chat"), dict):
            return str(part["chat"].get("id", ""))
    query = payload.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id", ""))
        sender = query.get("from")
        if isinstance(sender, dict):
            return str(sender.get("id", ""))
    return ""


@dataclass(frozen=True)
class ForModerators:
    """An update in the moderators' chat: the desk's."""


@dataclass(frozen=True)
class OutsidePrivate:
    """An update from a group or channel that is not the moderators': people are served in
    private chats only. `leave`: the bot was just added there, and leaves."""

    chat_id: int | None
    leave: bool = False


@dataclass(frozen=True)
class Membership:
    """The person blocked the bot (`blocked`) or let it write again."""

    chat_id: int
    blocked: bool


@dataclass(frozen=True)
class Nothing:
    """An update in a private chat that the engine has nothing to do with (an edit, a
    service message): it is marked done."""


@dataclass(frozen=True)
class PersonInput:
    """What the person did, as the engine's event, and what the step needs to know of it."""

    chat_id: int
    event: ev.Event
    first_name: str
    language: str | None
    #: the message the person sent (remembered for /forget and vanishing, relayed in a handoff)
    message_id: int | None = None
    #: the bot's message whose button was pressed (its buttons are taken away)
    pressed: Pressed | None = None
    #: the button press to answer (it stops the spinner)
    query_id: str | None = None


Input = ForModerators | OutsidePrivate | Membership | Nothing | PersonInput


def classify(update: Update, *, moderators_chat: str, text_event: Callable[[str], ev.Event]) -> Input:
    """Which input `update` is. `moderators_chat`: the moderators' chat id ("" without one);
    `text_event`: the engine's reading of a text (a command, or what the person typed)."""
    chat = update.effective_chat
    if chat is not None and moderators_chat and str(chat.id) == moderators_chat:
        return ForModerators()
    if chat is None or chat.type != "private":
        member = update.my_chat_member
        added = (
            member is not None
            and member.new_chat_member.status in ("member", "administrator", "restricted")
            and str(member.chat.id) != moderators_chat
        )
        return OutsidePrivate(chat.id if chat is not None else None, leave=added)
    if update.my_chat_member is not None:
        return Membership(chat.id, blocked=update.my_chat_member.new_chat_member.status in ("kicked", "left"))
    user = update.effective_user
    first_name, language = (user.first_name, user.language_code) if user is not None else ("", None)
    query = update.callback_query
    if query is not None:
        pressed = None
        if isinstance(query.message, Message) and query.message.text:
            pressed = Pressed(query.message.message_id, query.message.text_html)
        return PersonInput(chat.id, ev.Press(query.data or ""), first_name, language, pressed=pressed, query_id=query.id)
    message = update.message
    if message is None:
        return Nothing()
    if message.text is not None:
        event = text_event(message.text)
    else:
        kind = next((k for k in ATTACHMENTS if getattr(message, k)), "other")
        attachment = message.effective_attachment
        if isinstance(attachment, tuple):  # a photo's sizes: the largest is what would be passed on
            attachment = attachment[-1] if attachment else None
        event = ev.Unsupported(kind, int(getattr(attachment, "file_size", None) or 0))
    return PersonInput(chat.id, event, first_name, language, message_id=message.message_id)
