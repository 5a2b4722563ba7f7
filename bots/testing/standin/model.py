"""World objects of the stand-in: bots, people, supergroups, topics, chats, messages, files."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False, slots=True)
class BotAccount:
    """A registered bot: its token and the User that ``getMe`` returns."""

    token: str
    id: int
    first_name: str
    username: str

    def to_api(self) -> dict[str, Any]:
        """The bot as a Telegram ``User``."""
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def get_me(self) -> dict[str, Any]:
        """The ``getMe`` result (User with the bot-only flags)."""
        return {
            **self.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass(eq=False, slots=True)
class Person:
    """A human Telegram user; ``id`` is also the id of their private chat with any bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The person as a Telegram ``User``."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_api(self) -> dict[str, Any]:
        """The person's private chat as a Telegram ``Chat``."""
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


DEFAULT_TOPIC_COLOR = 7322096
GENERAL_TOPIC_ID = 1


@dataclass(eq=False, slots=True)
class Topic:
    """A forum topic; ``thread_id`` is the id of its creation service message."""

    thread_id: int
    name: str
    icon_color: int = DEFAULT_TOPIC_COLOR
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        """The topic as a Telegram ``ForumTopic``."""
        topic: dict[str, Any] = {"message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass(eq=False, slots=True)
class Group:
    """A supergroup (a forum when ``is_forum``); ``bots`` are the ids of bots in it (as admins)."""

    id: int
    title: str
    is_forum: bool = False
    username: str | None = None
    members: set[int] = field(default_factory=set)
    bots: set[int] = field(default_factory=set)
    topics: dict[int, Topic] = field(default_factory=dict)

    def chat_api(self) -> dict[str, Any]:
        """The group as a Telegram ``Chat``."""
        chat: dict[str, Any] = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.username:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat


@dataclass(eq=False, slots=True)
class Message:
    """A message in a chat, sent by a bot (``bot_id`` set) or by a person.

    Objects are live: edits change ``text``/``reply_markup`` in place and deletes set
    ``deleted``, so a test holding one always sees its current state.
    """

    message_id: int
    chat: dict[str, Any]
    sender: dict[str, Any]
    date: int
    bot_id: int | None = None
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    thread_id: int | None = None
    media: dict[str, Any] | None = None  # e.g. {"document": {...}} or {"photo": [...]}
    extra: dict[str, Any] | None = None  # forward_origin, reply_to_message, service fields...
    edit_date: int | None = None
    deleted: bool = False
    service: bool = False

    @property
    def chat_id(self) -> int:
        """Id of the chat the message is in."""
        return int(self.chat["id"])

    @property
    def from_bot(self) -> bool:
        """Whether a bot sent the message."""
        return self.bot_id is not None

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows as ``(label, callback_data)``; ``[]`` without an inline keyboard."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(b.get("text", ""), b.get("callback_data")) for b in row] for row in rows]

    @property
    def keyboard(self) -> list[list[str]]:
        """Reply keyboard rows as labels; ``[]`` without a reply keyboard."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]

    def find_button(self, label: str) -> dict[str, Any] | None:
        """The inline button whose label is ``label`` (exact, then case-insensitive), if any."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        for exact in (True, False):
            for row in rows:
                for button in row:
                    text = button.get("text", "")
                    if text == label if exact else text.casefold() == label.casefold():
                        return button
        return None

    def to_api(self, with_reply: bool = True) -> dict[str, Any]:
        """The message as a Telegram ``Message``."""
        msg: dict[str, Any] = {"message_id": self.message_id, "from": self.sender, "chat": self.chat, "date": self.date}
        if self.thread_id is not None:
            msg["message_thread_id"] = self.thread_id
            msg["is_topic_message"] = True
        if self.text is not None:
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        if self.media:
            msg.update(self.media)
        if self.caption is not None:
            msg["caption"] = self.caption
            if self.caption_entities:
                msg["caption_entities"] = self.caption_entities
        if self.extra:
            for key, value in self.extra.items():
                if key == "reply_to_message":
                    if with_reply and isinstance(value, Message):
                        msg[key] = value.to_api(with_reply=False)
                else:
                    msg[key] = value
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            msg["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        return msg


@dataclass(eq=False, slots=True)
class ChatState:
    """Everything the stand-in knows about one chat as one bot sees it (groups are shared).

    ``messages`` holds at most ``limit`` recent messages (oldest evicted first);
    ``bot_messages`` holds the bot-sent ones in order for reading by tests.
    """

    chat: dict[str, Any]
    bot_id: int | None
    person: Person | None = None
    group: Group | None = None
    limit: int = 1000
    messages: dict[int, Message] = field(default_factory=dict)
    bot_messages: deque[Message] = field(default_factory=deque)
    next_message_id: int = 1
    blocked: bool = False
    started: bool = True
    actions: deque[tuple[str, float]] = field(default_factory=lambda: deque(maxlen=50))

    @property
    def chat_id(self) -> int:
        """Id of the chat."""
        return int(self.chat["id"])

    def new_id(self) -> int:
        """Allocate the next message id of this chat."""
        mid = self.next_message_id
        self.next_message_id = mid + 1
        return mid

    def add(self, message: Message) -> None:
        """Store a message, evicting the oldest beyond the limit."""
        self.messages[message.message_id] = message
        if message.from_bot and not message.service:
            self.bot_messages.append(message)
            if len(self.bot_messages) > self.limit:
                self.bot_messages.popleft()
        if len(self.messages) > self.limit:
            del self.messages[next(iter(self.messages))]

    def get(self, message_id: Any) -> Message | None:
        """A live (not deleted) stored message by id."""
        msg = self.messages.get(message_id) if isinstance(message_id, int) else None
        return None if msg is None or msg.deleted else msg

    def bot_messages_after(self, after_id: int, bot_id: int | None = None, thread_id: int | None = None) -> list[Message]:
        """Bot-sent messages with id > ``after_id`` in order (scans only the new tail)."""
        tail: list[Message] = []
        for msg in reversed(self.bot_messages):
            if msg.message_id <= after_id:
                break
            if (bot_id is None or msg.bot_id == bot_id) and (thread_id is None or msg.thread_id == thread_id):
                tail.append(msg)
        tail.reverse()
        return tail


@dataclass(eq=False, slots=True)
class StoredFile:
    """A file the stand-in knows: uploaded by a bot or sent by a person."""

    file_id: str
    file_unique_id: str
    kind: str  # document, photo, video, audio, voice, animation, sticker, video_note
    file_size: int
    file_name: str | None = None
    mime_type: str | None = None
    data: bytes | None = None
    file_path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
