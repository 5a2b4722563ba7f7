"""The stand-in's world: bots, people, supergroups, chats, files and callback queries.

Shared by the Bot API handlers (``methods*.py``) and the test control API (``control.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from bots.testing.standin.errors import CANT_INITIATE, CHAT_NOT_FOUND, bad_request, forbidden
from bots.testing.standin.model import BotAccount, ChatState, Group, Message, Person, StoredFile
from bots.testing.standin.updates import UpdateQueue

T = TypeVar("T")
POLL_INTERVAL = 0.02

_FILE_PREFIX = {
    "document": "BQAC",
    "photo": "AgAC",
    "video": "BAAC",
    "audio": "CQAC",
    "voice": "AwAC",
    "animation": "CgAC",
    "sticker": "CAAC",
    "video_note": "DQAC",
}


@dataclass(eq=False, slots=True)
class BotState:
    """A bot account with its update queue, command lists and default chat settings."""

    account: BotAccount
    queue: UpdateQueue
    commands: dict[tuple[tuple[Any, ...], str], list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        """The bot's user id (the number before the colon of its token)."""
        return self.account.id


@dataclass(eq=False, slots=True)
class CallbackRecord:
    """A button press sent to a bot, and the bot's answerCallbackQuery, once it arrives."""

    id: str
    bot_id: int
    person: Person
    message: Message
    data: str | None
    answer: dict[str, Any] | None = None


class World:
    """All mutable state of one stand-in instance (single event loop, no locking needed)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        max_messages_per_chat: int = 1000,
        max_pending_updates: int = 100_000,
        webhook_retry_delay: float = 0.5,
        webhook_retry_max: float = 30.0,
        webhook_timeout: float = 60.0,
        max_file_bytes: int = 64 * 1024 * 1024,
        users_start_bots: bool = True,
    ) -> None:
        self.clock = clock
        self.time_offset = 0.0
        self.max_messages_per_chat = max_messages_per_chat
        self.max_pending_updates = max_pending_updates
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_retry_max = webhook_retry_max
        self.webhook_timeout = webhook_timeout
        self.max_file_bytes = max_file_bytes
        self.users_start_bots = users_start_bots
        self.bots: dict[str, BotState] = {}
        self.bots_by_id: dict[int, BotState] = {}
        self.people: dict[int, Person] = {}
        self.groups: dict[int, Group] = {}
        self.usernames: dict[str, Person | Group] = {}
        self.chats: dict[tuple[int, int], ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self._file_bytes = 0
        self._files_with_data: deque[StoredFile] = deque()
        self.queries: OrderedDict[str, CallbackRecord] = OrderedDict()
        self._ids = itertools.count(1)
        self._person_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1)
        self._waiters: list[asyncio.Future[None]] = []

    # -- time and change notification ---------------------------------------------------------
    def now(self) -> float:
        """Current stand-in time (the injectable clock plus any :meth:`advance`)."""
        return self.clock() + self.time_offset

    def advance(self, seconds: float) -> None:
        """Move stand-in time forward (e.g. past the 48 h deletion window)."""
        self.time_offset += seconds

    def notify(self) -> None:
        """Wake every :meth:`wait_until` so it re-checks its condition."""
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    async def wait_until(self, predicate: Callable[[], T], timeout: float) -> T:
        """Return ``predicate()`` once it is truthy; re-checked on every world change and
        every ``POLL_INTERVAL`` seconds (for conditions on state outside the world, such as a
        webhook receiver's inbox). Raises :class:`TimeoutError` after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            try:
                await asyncio.wait_for(fut, min(remaining, POLL_INTERVAL))
            except asyncio.TimeoutError:
                pass

    # -- registration --------------------------------------------------------------------------
    def add_bot(self, token: str, first_name: str | None = None, username: str | None = None) -> BotState:
        """Register a bot token ``<digits>:<secret>``; its user id is the number before the colon."""
        head, sep, secret = token.partition(":")
        if not sep or not head.isdigit() or not secret:
            raise ValueError("a bot token looks like '123456:ABC-DEF'")
        bot_id = int(head)
        account = BotAccount(token, bot_id, first_name or f"Bot {bot_id}", username or f"standin_{bot_id}_bot")
        queue = UpdateQueue(
            max_pending=self.max_pending_updates,
            retry_delay=self.webhook_retry_delay,
            retry_max=self.webhook_retry_max,
            webhook_timeout=self.webhook_timeout,
            clock=self.now,
        )
        state = BotState(account, queue)
        self.bots[token] = state
        self.bots_by_id[bot_id] = state
        return state

    def add_person(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        id: int | None = None,
    ) -> Person:  # noqa: A002
        """Create a person (their private chat with every bot exists at once)."""
        person = Person(id if id is not None else next(self._person_ids), first_name, last_name, username, language_code)
        self.people[person.id] = person
        if username:
            self.usernames[username.lower()] = person
        return person

    def add_group(
        self,
        title: str,
        *,
        forum: bool = False,
        username: str | None = None,
        members: list[Person] | None = None,
        bots: list[int] | None = None,
        id: int | None = None,
    ) -> Group:  # noqa: A002
        """Create a supergroup (a forum if ``forum``) with the given bots as admins (default: all)."""
        gid = id if id is not None else -(10**12 + next(self._group_ids))  # -100XXXXXXXXXX
        group = Group(
            gid, title, forum, username, {p.id for p in members or []}, set(bots if bots is not None else self.bots_by_id)
        )
        self.groups[gid] = group
        if username:
            self.usernames[username.lower()] = group
        self.group_state(group)
        return group

    # -- chats ---------------------------------------------------------------------------------
    def private_state(self, bot: BotState, person: Person) -> ChatState:
        """The private chat between ``bot`` and ``person`` (created on first use)."""
        key = (bot.id, person.id)
        state = self.chats.get(key)
        if state is None:
            state = ChatState(
                person.chat_api(), bot.id, person=person, limit=self.max_messages_per_chat, started=self.users_start_bots
            )
            self.chats[key] = state
        return state

    def group_state(self, group: Group) -> ChatState:
        """The (shared by all bots) state of a supergroup."""
        key = (0, group.id)
        state = self.chats.get(key)
        if state is None:
            # message 1 is the group's creation (and a forum's General topic, thread 1)
            state = ChatState(group.chat_api(), None, group=group, limit=self.max_messages_per_chat, next_message_id=2)
            self.chats[key] = state
        return state

    def resolve_chat(self, bot: BotState, chat_id: Any, *, membership: bool = True) -> ChatState:
        """The chat a bot addresses by id or @username, or Telegram's 400/403 errors."""
        target: Person | Group | None
        if isinstance(chat_id, int):
            target = self.people.get(chat_id) or self.groups.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            target = self.usernames.get(chat_id[1:].lower())
            if isinstance(target, Person):
                target = None  # bots can't address users by username
        else:
            target = None
        if target is None:
            raise bad_request(CHAT_NOT_FOUND)
        if isinstance(target, Person):
            state = self.private_state(bot, target)
            if membership and not state.started:
                raise forbidden(CANT_INITIATE)
            return state
        if membership and bot.id not in target.bots:
            raise forbidden("bot is not a member of the supergroup chat")
        return self.group_state(target)

    def state_of(self, chat: Person | Group | ChatState, bot: BotState | None) -> ChatState:
        """A ChatState from a Person (private chat with ``bot``), a Group or a ChatState."""
        if isinstance(chat, ChatState):
            return chat
        if isinstance(chat, Group):
            return self.group_state(chat)
        if bot is None:
            raise ValueError("a private chat needs the bot")
        return self.private_state(bot, chat)

    def new_message_id(self) -> int:
        """A unique id for things that are not messages (callback queries, files)."""
        return next(self._ids)

    # -- files ---------------------------------------------------------------------------------
    def new_file(
        self,
        kind: str,
        data: bytes | None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> StoredFile:
        """Store a file and give it a new file_id / file_unique_id / file_path."""
        n = next(self._ids)
        ext = mimetypes.guess_extension(mime_type or "") or (
            "" if not file_name or "." not in file_name else "." + file_name.rsplit(".", 1)[-1]
        )
        if kind == "photo" and not ext:
            ext = ".jpg"
        stored = StoredFile(
            file_id=_FILE_PREFIX.get(kind, "BQAC") + secrets.token_urlsafe(24),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            kind=kind,
            file_size=len(data) if data is not None else 0,
            file_name=file_name,
            mime_type=mime_type,
            data=data,
            file_path=f"{kind}s/file_{n}{ext}",
            meta=meta or {},
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path or ""] = stored
        if data:
            self._file_bytes += len(data)
            self._files_with_data.append(stored)
            while self._file_bytes > self.max_file_bytes and self._files_with_data:
                old = self._files_with_data.popleft()
                self._file_bytes -= len(old.data or b"")
                old.data = None
        return stored

    def remember_query(self, record: CallbackRecord, limit: int = 10_000) -> None:
        """Keep a callback query for answerCallbackQuery (bounded, oldest dropped)."""
        self.queries[record.id] = record
        if len(self.queries) > limit:
            self.queries.popitem(last=False)


def media_object(stored: StoredFile) -> Any:
    """The Telegram object (Document, PhotoSize array, Sticker, ...) describing a stored file."""
    base: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.file_size}
    kind, meta = stored.kind, stored.meta
    if kind == "photo":
        return [{**base, "width": meta.get("width", 800), "height": meta.get("height", 600)}]
    if stored.file_name and kind in ("document", "video", "audio", "animation"):
        base["file_name"] = stored.file_name
    if stored.mime_type and kind in ("document", "video", "audio", "voice", "animation"):
        base["mime_type"] = stored.mime_type
    if kind in ("video", "animation"):
        base.update(width=meta.get("width", 640), height=meta.get("height", 480), duration=meta.get("duration", 1))
    elif kind in ("audio", "voice"):
        base["duration"] = meta.get("duration", 1)
    elif kind == "video_note":
        base.update(length=meta.get("length", 240), duration=meta.get("duration", 1))
    elif kind == "sticker":
        base.update(width=512, height=512, is_animated=False, is_video=False, type="regular")
        if meta.get("emoji"):
            base["emoji"] = meta["emoji"]
    return base
