"""The moderators' side of the desk: what they write and press in their group.

A moderator's message in a person's topic (or, without topics, a reply to one of the
messages posted for a handoff) goes to the person; commands act on the handoff; `/queue`
lists the open ones.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Protocol

from markupsafe import Markup
from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError

from bots.calls import BotApiCall, Delivery, Placement
from bots.engine.events import HandoffEnding
from bots.engine.project import Project, split_target
from bots.storage import Handoff, IncomingUpdate
from bots.storage.outcome import Outcome
from bots.telegram.cards import BUTTON_PREFIX
from bots.telegram.desk import Desk

CONTENT = (
    "text",
    "photo",
    "document",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)
CLOSING = {
    "closed": "mod_closed",
    "returned": "mod_returned",
    "accepted": "mod_accepted",
    "declined": "mod_declined",
}


@dataclass(frozen=True)
class Command:
    name: str
    argument: str


def parse_command(text: str, username: str) -> Command | None:
    """`/close@MaraBot note` -> Command("close", "note"); None for plain text or another bot's command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    word, _, argument = stripped[1:].partition(" ")
    name, _, addressee = word.partition("@")
    if addressee and username and addressee.lower() != username.lower():
        return None
    return Command(name.lower(), argument.strip())


def _has_content(message: Message) -> bool:
    return any(getattr(message, kind, None) for kind in CONTENT)


class Conversations(Protocol):
    """What the moderators' commands need of the people's side (the bot's runner gives it)."""

    @property
    def project(self) -> Project: ...

    async def close_handoff(
        self,
        handoff: Handoff,
        how: HandoffEnding,
        notice: str,
        *,
        resume_at: str | None = None,
        incoming: IncomingUpdate | None = None,
    ) -> bool:
        """End the handoff and let the person's flow go on; False if it was no longer open."""
        ...

    async def canned_for(self, handoff: Handoff, name: str) -> tuple[str | None, str]:
        """A canned reply in the person's language (None if it has no text), and that language."""
        ...

    async def vanish_for(self, chat: str) -> float | None:
        """After how many seconds a message to this chat vanishes (None: it stays)."""
        ...


class ModeratorCommands:
    """What moderators write and press in their chat, acted on through the `Desk` (the
    handoffs, texts and journal) and the people's side (`Conversations`)."""

    def __init__(self, desk: Desk, conversations: Conversations) -> None:
        self.desk = desk
        self.conversations = conversations

    async def on_update(self, incoming: IncomingUpdate, update: Update) -> None:
        """An update from the moderators' chat."""
        try:
            if update.callback_query is not None:
                await self._button(incoming, update.callback_query)
            elif update.message is not None and update.message.from_user is not None and not update.message.from_user.is_bot:
                await self._message(incoming, update.message)
        finally:  # whatever it did, it is done
            await self.desk.store.commit(Outcome.done(incoming), now=self.desk.clock())

    async def _handoff_of(self, message: Message) -> Handoff | None:
        if message.is_topic_message and message.message_thread_id:
            found = await self.desk.store.handoff_by_thread(self.desk.bot_id, self.desk.chat, message.message_thread_id)
            if found is not None:
                return found
        reply = message.reply_to_message
        if reply is not None and not (reply.forum_topic_created is not None):
            return await self.desk.store.handoff_by_message(self.desk.bot_id, self.desk.chat, reply.message_id)
        return None

    async def _message(self, incoming: IncomingUpdate, message: Message) -> None:
        handoff = await self._handoff_of(message)
        command = parse_command(message.text or "", self.desk.username)
        if command is not None:
            await self._command(incoming, message, command, handoff)
            return
        if handoff is None or not _has_content(message):
            return
        if (message.text or message.caption or "").lstrip().startswith("!"):
            return  # an internal note: it stays in the group
        if not handoff.is_open:
            await self.desk.journal([self._reply(message, self.desk.texts("mod_not_delivered_closed"))], incoming, [])
            return
        out = BotApiCall(
            handoff.chat,
            "copyMessage",
            {"chat_id": handoff.person, "from_chat_id": self.desk.chat_id, "message_id": message.message_id},
            await self._to_person(handoff),
        )
        await self.desk.answered(handoff)
        await self.desk.journal([out], incoming, [])

    async def _to_person(self, handoff: Handoff) -> Delivery:
        """How a moderator's message reaches the person: a refusal is told in the topic, and
        in a vanishing chat it vanishes like the rest."""
        return Delivery(quiet=True, handoff=Placement(handoff.id), vanish=await self.conversations.vanish_for(handoff.chat))

    def _reply(self, message: Message, text: str) -> BotApiCall:
        params: dict[str, Any] = {"chat_id": self.desk.chat_id, "text": text, "parse_mode": "HTML"}
        if message.is_topic_message and message.message_thread_id:
            params["message_thread_id"] = message.message_thread_id
        else:
            params["reply_parameters"] = {"message_id": message.message_id, "allow_sending_without_reply": True}
        return BotApiCall(self.desk.chat, "sendMessage", params, Delivery(quiet=True))

    async def _command(self, incoming: IncomingUpdate, message: Message, command: Command, handoff: Handoff | None) -> None:
        name = message.from_user.first_name if message.from_user else "?"
        if command.name == "queue":
            await self.desk.journal([self._reply(message, await self.queue_text())], incoming, [])
            return
        actions = ("claim", "close", "return", "canned", "accept", "decline")
        if command.name not in actions:
            if handoff is not None or (self.desk.username and f"@{self.desk.username.lower()}" in (message.text or "").lower()):
                await self.desk.journal([self._reply(message, self.desk.texts("mod_commands"))], incoming, [])
            return
        if handoff is None:
            await self.desk.journal([self._reply(message, self.desk.texts("mod_use_in_topic"))], incoming, [])
            return
        answer = await self.act(handoff, command.name, command.argument, name, incoming)
        if answer:
            await self.desk.journal([self._reply(message, answer)], incoming, [])

    async def _button(self, incoming: IncomingUpdate, query: CallbackQuery) -> None:
        data = query.data or ""
        toast = ""
        if data.startswith(BUTTON_PREFIX):
            handoff_id, _, action = data.removeprefix(BUTTON_PREFIX).partition(":")
            handoff = await self.desk.store.handoff(handoff_id)
            if handoff is None or handoff.bot != self.desk.bot_id or handoff.mod_chat != self.desk.chat:
                toast = self.desk.texts.plain("mod_already_closed")
            elif action in ("claim", "close", "return", "accept", "decline"):
                answer = await self.act(handoff, action, "", query.from_user.first_name, incoming)
                if answer:
                    toast = _plain(answer)
        try:
            await self.desk.bot.answer_callback_query(query.id, text=toast[:200] or None)
        except TelegramError:
            pass

    async def act(self, handoff: Handoff, action: str, argument: str, name: str, incoming: IncomingUpdate | None) -> str:
        """Do a moderator's action; returns what to answer the moderator (empty when the topic was told)."""
        if not handoff.is_open:
            return self.desk.texts("mod_already_closed")
        now = self.desk.clock()
        if action == "claim":
            if not await self.desk.store.claim_handoff(handoff.id, name, now=now):
                return self.desk.texts("mod_already_closed")
            claimed = await self.desk.store.handoff(handoff.id)
            if claimed is None:  # forgotten (/forget) in the meantime
                return self.desk.texts("mod_already_closed")
            wait = self.desk.texts.duration(now.timestamp() - handoff.opened_at)
            await self.desk.journal(
                [
                    self.desk.notice(handoff, self.desk.texts("mod_claimed", name=name, wait=wait)),
                    BotApiCall(
                        self.desk.chat,
                        "editMessageReplyMarkup",
                        {"chat_id": self.desk.chat_id, "reply_markup": self.desk.texts.card_buttons(claimed)},
                        Delivery(quiet=True, handoff=Placement(handoff.id, card_of=True)),
                    ),
                ],
                incoming,
                [],
            )
            return ""
        if action == "canned":
            return await self._canned(handoff, argument.strip(), incoming)
        resume_at = None
        endings: dict[str, HandoffEnding] = {"close": "closed", "return": "returned", "accept": "accepted", "decline": "declined"}
        how = endings[action]
        here = self.conversations.project.node(handoff.flow, handoff.node)
        node_shown = str((here.next_target() if here is not None else None) or "—")
        if action == "return" and argument:
            flow_id, node_id = split_target(argument.strip(), handoff.flow)
            if self.conversations.project.node(flow_id, node_id) is None:
                flow = self.conversations.project.flow(handoff.flow)
                nodes = ", ".join(sorted(flow.nodes)) if flow else ""
                return self.desk.texts("mod_return_unknown", node=argument.strip(), flow=handoff.flow, nodes=nodes)
            resume_at = f"{flow_id}:{node_id}"
            node_shown = argument.strip()
        if how == "closed" and argument:
            notice = self.desk.texts("mod_closed_note", name=name, note=argument)
        else:
            notice = self.desk.texts(CLOSING[how], name=name, node=node_shown)
        closed = await self.conversations.close_handoff(handoff, how, notice, resume_at=resume_at, incoming=incoming)
        return "" if closed else self.desk.texts("mod_already_closed")

    async def _canned(self, handoff: Handoff, name: str, incoming: IncomingUpdate | None) -> str:
        canned = self.conversations.project.canned
        if not canned:
            return self.desk.texts("mod_canned_none")
        if name not in canned:
            return self.desk.texts("mod_canned_unknown", name=name or "?", names=", ".join(sorted(canned)))
        text, lang = await self.conversations.canned_for(handoff, name)
        if text is None:
            return self.desk.texts("mod_canned_unknown", name=name, names=", ".join(sorted(canned)))
        out = BotApiCall(
            handoff.chat,
            "sendMessage",
            {"chat_id": handoff.person, "text": text, "parse_mode": "HTML"},
            await self._to_person(handoff),
        )
        await self.desk.answered(handoff)
        await self.desk.journal(
            [out, self.desk.notice(handoff, self.desk.texts("mod_canned_sent", name=name, language=lang))], incoming, []
        )
        return ""

    async def queue_text(self) -> Markup:
        handoffs = await self.desk.store.open_handoffs(self.desk.bot_id)
        return Markup(self.desk.texts.queue(handoffs, self.desk.clock().timestamp(), self._link))

    def _link(self, handoff: Handoff) -> str:
        internal = self.desk.raw.removeprefix("-100") if self.desk.raw.startswith("-100") else ""
        place = handoff.thread or handoff.card
        return f"https://t.me/c/{internal}/{place}" if internal and place else ""


def _plain(text: str) -> str:
    """A notice as a button's toast: plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
