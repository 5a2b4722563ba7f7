"""``BotApiStandin``: the stand-in server plus the Python control API tests use.

Tests play the people (send texts, media, press buttons, block the bot), read what bots sent
(per chat, in order, live objects with current text/keyboard and a ``deleted`` flag), and
inject faults. Everything runs in the test's event loop; no locking needed.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any, Callable, Iterable, TypeVar

from bots.testing.standin.faultcontrol import BotRef, Chat, FaultControl
from bots.testing.standin.formatting import command_entities
from bots.testing.standin.httpcontrol import add_control_routes
from bots.testing.standin.model import (
    GENERAL_TOPIC_ID,
    ChatState,
    Group,
    Message,
    Person,
    Topic,
)
from bots.testing.standin.world import BotState, CallbackRecord, World, media_object

T = TypeVar("T")

DEFAULT_TOKEN = "123456:TEST-standin-token"


class BotApiStandin(FaultControl):
    """A loopback Telegram Bot API for end-to-end tests and benchmarks.

    ``async with BotApiStandin(tokens=["111:AAA"]) as api:`` serves on 127.0.0.1 (a free port
    unless ``port`` is given); point python-telegram-bot at it with
    ``Bot(token, base_url=api.base_url, base_file_url=api.base_file_url)``.

    Wherever a ``bot`` argument is accepted it may be a token, a bot user id, or omitted when
    exactly one bot is registered. ``chat`` arguments are a :class:`Person` (their private chat
    with that bot) or a :class:`Group`.
    """

    def __init__(
        self,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        max_messages_per_chat: int = 1000,
        max_pending_updates: int = 100_000,
        webhook_retry_delay: float = 0.5,
        webhook_retry_max: float = 30.0,
        webhook_timeout: float = 60.0,
        call_log_size: int = 10_000,
        users_start_bots: bool = True,
        http_control: bool = True,
    ) -> None:
        world = World(
            clock=clock,
            max_messages_per_chat=max_messages_per_chat,
            max_pending_updates=max_pending_updates,
            webhook_retry_delay=webhook_retry_delay,
            webhook_retry_max=webhook_retry_max,
            webhook_timeout=webhook_timeout,
            users_start_bots=users_start_bots,
        )
        super().__init__(world, host=host, port=port, call_log_size=call_log_size)
        for token in tokens:
            self.add_bot(token)
        self._cursors: dict[tuple[Any, ...], int] = {}
        if http_control:
            add_control_routes(self)

    async def __aenter__(self) -> BotApiStandin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- world ------------------------------------------------------------------------------------
    def user(
        self,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        id: int | None = None,
        started: bool = True,
    ) -> Person:  # noqa: A002
        """Create a person with a private chat with every bot.

        ``started=False``: bots get ``403 bot can't initiate conversation`` until the person writes.
        """
        person = self.world.add_person(first_name, last_name=last_name, username=username, language_code=language_code, id=id)
        if not started:
            for bot in self.world.bots.values():
                self.world.private_state(bot, person).started = False
        return person

    def supergroup(
        self,
        title: str = "Group",
        *,
        forum: bool = False,
        members: Iterable[Person] = (),
        bots: Iterable[BotRef] | None = None,
        username: str | None = None,
    ) -> Group:
        """Create a supergroup (a forum if ``forum``) where the bots (default: all) are admins."""
        bot_ids = None if bots is None else [self.bot(b).id for b in bots]
        return self.world.add_group(title, forum=forum, members=list(members), bots=bot_ids, username=username)

    def topics(self, group: Group) -> list[Topic]:
        """The group's topics that are not deleted, oldest first."""
        return [t for t in group.topics.values() if not t.deleted]

    def topic(self, group: Group, name: str) -> Topic:
        """The live topic called ``name``."""
        for topic in self.topics(group):
            if topic.name == name:
                return topic
        raise LookupError(f"no topic named {name!r}")

    def advance_time(self, seconds: float) -> None:
        """Move the stand-in's clock forward (message dates, the 48 h delete window)."""
        self.world.advance(seconds)

    # -- people act -------------------------------------------------------------------------------
    def _state(self, who: Person, chat: Chat | None, bot: BotRef) -> tuple[ChatState, list[BotState]]:
        if chat is None or isinstance(chat, Person):
            target = self.bot(bot)
            state = self.world.private_state(target, who)
            if state.blocked:
                self.unblock(who, bot=target)
            state.started = True
            return state, [target]
        chat.members.add(who.id)
        bots = [self.world.bots_by_id[b] for b in sorted(chat.bots) if b in self.world.bots_by_id]
        if bot is not None:
            bots = [b for b in bots if b.id == self.bot(bot).id]
        return self.world.group_state(chat), bots

    async def send_message(
        self,
        who: Person,
        *,
        bot: BotRef = None,
        chat: Chat | None = None,
        topic: Topic | int | None = None,
        reply_to: Message | None = None,
        **fields: Any,
    ) -> Message:
        """A person sends a message with the given Message fields (text, media, ...).

        Private chat (``chat`` None or a Person): the update goes to ``bot`` (unblocking it if
        blocked). Group: the person joins if needed and every bot in it gets the update (or only
        ``bot``). ``topic``: a forum topic (Topic or thread id; 1 is General).
        """
        state, bots = self._state(who, chat, bot)
        thread_id = None
        if topic is not None and topic != GENERAL_TOPIC_ID:
            group = state.group
            tid = topic.thread_id if isinstance(topic, Topic) else int(topic)
            live = group.topics.get(tid) if group is not None and group.is_forum else None
            if live is None or live.deleted:
                raise ValueError("no such topic in this chat")
            if live.closed:
                raise ValueError("the topic is closed")
            thread_id = tid
        extra = {"reply_to_message": reply_to} if reply_to is not None else None
        msg = Message(state.new_id(), state.chat, who.to_api(), int(self.world.now()), thread_id=thread_id, extra=extra, **fields)
        state.add(msg)
        payload = msg.to_api()
        for target in bots:
            target.queue.push("message", payload, state.chat_id)
        await asyncio.sleep(0)
        return msg

    async def edit_text(self, message: Message, text: str, *, bot: BotRef = None) -> Message:
        """The person who sent ``message`` edits its text; the bot(s) of that chat get an
        ``edited_message`` update (``bot`` as elsewhere, for private chats)."""
        if message.from_bot or message.deleted:
            raise ValueError("people can only edit their own live messages")
        message.text = text
        message.entities = command_entities(text) or None
        message.edit_date = int(self.world.now())
        group = self.world.groups.get(message.chat_id)
        targets = [self.world.bots_by_id[b] for b in sorted(group.bots)] if group is not None else [self.bot(bot)]
        payload = message.to_api()
        for target in targets:
            target.queue.push("edited_message", payload, message.chat_id)
        await asyncio.sleep(0)
        return message

    async def send_text(
        self,
        who: Person,
        text: str,
        *,
        bot: BotRef = None,
        chat: Chat | None = None,
        topic: Topic | int | None = None,
        reply_to: Message | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Message:
        """A person sends ``text``; ``/commands`` get bot_command entities as on Telegram."""
        ents = entities if entities is not None else command_entities(text)
        return await self.send_message(who, bot=bot, chat=chat, topic=topic, reply_to=reply_to, text=text, entities=ents or None)

    async def _send_file(
        self,
        who: Person,
        kind: str,
        data: bytes,
        *,
        caption: str | None,
        file_name: str | None,
        mime_type: str | None,
        meta: dict[str, Any] | None = None,
        **where: Any,
    ) -> Message:
        stored = self.world.new_file(kind, data, file_name=file_name, mime_type=mime_type, meta=meta)
        return await self.send_message(who, media={kind: media_object(stored)}, caption=caption, **where)

    async def send_photo(
        self, who: Person, data: bytes = b"\xff\xd8\xff\xe0standin-photo\xff\xd9", *, caption: str | None = None, **where: Any
    ) -> Message:
        """A person sends a photo (``where``: bot=, chat=, topic=, reply_to=)."""
        return await self._send_file(who, "photo", data, caption=caption, file_name=None, mime_type="image/jpeg", **where)

    async def send_document(
        self,
        who: Person,
        data: bytes = b"standin document\n",
        *,
        file_name: str = "document.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
        **where: Any,
    ) -> Message:
        """A person sends a document (a file the bot can getFile and download)."""
        return await self._send_file(who, "document", data, caption=caption, file_name=file_name, mime_type=mime_type, **where)

    async def send_sticker(self, who: Person, emoji: str = "\U0001f44d", **where: Any) -> Message:
        """A person sends a sticker."""
        return await self._send_file(
            who,
            "sticker",
            b"RIFFstandin-sticker",
            caption=None,
            file_name=None,
            mime_type="image/webp",
            meta={"emoji": emoji},
            **where,
        )

    async def press(self, who: Person, message: Message, label: str | None = None, *, data: str | None = None) -> str:
        """Press an inline button of a bot message by its label (or send raw callback ``data``).

        Returns the callback query id (see :meth:`wait_for_answer`).
        """
        if message.deleted:
            raise ValueError("the message was deleted")
        if message.bot_id is None:
            raise ValueError("only bot messages have inline keyboards")
        if data is None:
            if label is None:
                raise ValueError("give a button label or data=")
            button = message.find_button(label)
            if button is None:
                labels = [text for row in message.buttons for text, _ in row]
                raise LookupError(f"no button {label!r}; buttons: {labels}")
            data = button.get("callback_data")
            if data is None:
                raise ValueError(f"button {label!r} has no callback_data")
        bot = self.world.bots_by_id[message.bot_id]
        qid = str(secrets.randbits(62))
        self.world.remember_query(CallbackRecord(qid, bot.id, who, message, data))
        payload = {
            "id": qid,
            "from": who.to_api(),
            "message": message.to_api(),
            "chat_instance": str(abs(hash((bot.id, message.chat_id))) % 10**18),
            "data": data,
        }
        bot.queue.push("callback_query", payload, message.chat_id)
        await asyncio.sleep(0)
        return qid

    async def wait_for_answer(self, query_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The bot's answerCallbackQuery fields (text, show_alert, url, cache_time) once it answers."""
        record = self.world.queries[query_id]
        await self.world.wait_until(lambda: record.answer is not None, timeout)
        return dict(record.answer or {})

    def _my_chat_member(self, who: Person, bot: BotState, old: str, new: str) -> None:
        me = bot.account.to_api()
        new_member: dict[str, Any] = {"status": new, "user": me}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"status": old, "user": me}
        if old == "kicked":
            old_member["until_date"] = 0
        bot.queue.push(
            "my_chat_member",
            {
                "chat": who.chat_api(),
                "from": who.to_api(),
                "date": int(self.world.now()),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
            who.id,
        )

    def block(self, who: Person, *, bot: BotRef = None, notify: bool = True) -> None:
        """The person blocks the bot: sends then fail with 403 "Forbidden: bot was blocked by the user".

        With ``notify`` the bot gets the my_chat_member update (member → kicked) as on Telegram.
        """
        target = self.bot(bot)
        state = self.world.private_state(target, who)
        if not state.blocked:
            state.blocked = True
            if notify:
                self._my_chat_member(who, target, "member", "kicked")

    def unblock(self, who: Person, *, bot: BotRef = None, notify: bool = True) -> None:
        """The person unblocks (restarts) the bot."""
        target = self.bot(bot)
        state = self.world.private_state(target, who)
        if state.blocked:
            state.blocked = False
            if notify:
                self._my_chat_member(who, target, "kicked", "member")

    # -- reading what bots did --------------------------------------------------------------------
    def chat_state(self, chat: Chat, bot: BotRef = None) -> tuple[ChatState, int | None]:
        """The ChatState of ``chat`` and the bot id that filters its messages (None: all bots of a group)."""
        if isinstance(chat, Group):
            return self.world.group_state(chat), (None if bot is None else self.bot(bot).id)
        target = self.bot(bot)
        return self.world.private_state(target, chat), target.id

    def messages(
        self, chat: Chat, *, bot: BotRef = None, topic: Topic | int | None = None, include_deleted: bool = True
    ) -> list[Message]:
        """Bot-sent messages in ``chat`` (recent ones, bounded), oldest first, live objects."""
        state, bot_id = self.chat_state(chat, bot)
        tid = topic.thread_id if isinstance(topic, Topic) else topic
        return [m for m in state.bot_messages_after(0, bot_id, tid) if include_deleted or not m.deleted]

    def last_message(self, chat: Chat, *, bot: BotRef = None) -> Message | None:
        """The newest bot-sent message in ``chat``, if any."""
        msgs = self.messages(chat, bot=bot)
        return msgs[-1] if msgs else None

    async def wait_for_messages(
        self, chat: Chat, count: int = 1, *, timeout: float = 5.0, bot: BotRef = None, topic: Topic | int | None = None
    ) -> list[Message]:
        """The next ``count`` bot messages in ``chat`` not yet returned by this method, in order.

        Waits up to ``timeout`` seconds for them (TimeoutError otherwise). Each chat (and
        bot/topic filter) has its own read cursor.
        """
        state, bot_id = self.chat_state(chat, bot)
        tid = topic.thread_id if isinstance(topic, Topic) else topic
        key = (id(state), bot_id, tid)
        after = self._cursors.get(key, 0)

        def ready() -> list[Message]:
            new = state.bot_messages_after(after, bot_id, tid)
            return new[:count] if len(new) >= count else []  # empty: not yet

        msgs = await self.world.wait_until(ready, timeout)  # raises on a timeout
        self._cursors[key] = msgs[-1].message_id
        return msgs

    async def wait_until(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy; re-checked whenever a bot changes something."""
        return await self.world.wait_until(predicate, timeout)

    def chat_actions(self, chat: Chat, *, bot: BotRef = None) -> list[str]:
        """sendChatAction actions seen in ``chat`` (recent ones), oldest first."""
        state, _ = self.chat_state(chat, bot)
        return [action for action, _t in state.actions]

    def commands(
        self, bot: BotRef = None, *, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list set for exactly this scope (default scope if None) and language."""
        target = self.bot(bot)
        scope = scope or {"type": "default"}
        key: tuple[Any, ...] = tuple(v for v in (scope["type"], scope.get("chat_id"), scope.get("user_id")) if v is not None)
        return list(target.commands.get((key, language_code), []))

    def visible_commands(self, who: Person, *, chat: Group | None = None, bot: BotRef = None) -> list[dict[str, Any]]:
        """The commands Telegram would show ``who`` (scope and language fallback as documented)."""
        target = self.bot(bot)
        if chat is None:
            scopes: list[tuple[Any, ...]] = [("chat", who.id), ("all_private_chats",), ("default",)]
        else:
            scopes = [("chat_member", chat.id, who.id), ("chat", chat.id), ("all_group_chats",), ("default",)]
        langs = [who.language_code, ""] if who.language_code else [""]
        for scope in scopes:
            for lang in langs:
                found = target.commands.get((scope, lang))
                if found:
                    return list(found)
        return []
