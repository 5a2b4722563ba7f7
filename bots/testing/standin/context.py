"""What a Bot API handler gets (:class:`Ctx`) and the checks shared by the sending methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.testing.standin.errors import (
    BLOCKED,
    BUTTON_DATA_INVALID,
    THREAD_NOT_FOUND,
    bad_request,
    forbidden,
)
from bots.testing.standin.faults import RateLimiter
from bots.testing.standin.formatting import PARSERS, ParseError, sort_entities, trim
from bots.testing.standin.model import GENERAL_TOPIC_ID, ChatState, Message
from bots.testing.standin.world import BotState, World

_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes

    def describe(self) -> dict[str, Any]:
        """What the call log keeps of an upload (not its bytes)."""
        return {"upload": self.filename, "size": len(self.data)}


@dataclass(slots=True)
class Result:
    """A handler result with Telegram's optional top-level ``description`` (setWebhook etc.)."""

    value: Any
    description: str


@dataclass(slots=True)
class Ctx:
    """One Bot API call being handled: the world, the calling bot, decoded params, uploads."""

    world: World
    bot: BotState
    method: str  # lower-cased
    params: dict[str, Any]
    uploads: dict[str, Upload]
    rate: RateLimiter

    def target(self, chat_id: Any, *, sending: bool = True) -> ChatState:
        """Resolve the chat a bot writes to: 400 chat not found, 403 blocked/not a member,
        429 when rate limits are on and exceeded (only for ``sending``)."""
        state = self.world.resolve_chat(self.bot, chat_id)
        if state.blocked:
            raise forbidden(BLOCKED)
        if sending and self.rate.enabled:
            self.rate.check(self.bot.id, state.chat_id, state.group is not None)
        return state

    def store(self, state: ChatState, thread_id: int | None = None, **fields: Any) -> Message:
        """Create a bot-sent message in ``state`` and wake anyone waiting for it."""
        msg = Message(
            state.new_id(),
            state.chat,
            self.bot.account.to_api(),
            int(self.world.now()),
            bot_id=self.bot.id,
            thread_id=thread_id,
            **fields,
        )
        state.add(msg)
        self.world.notify()
        return msg


def format_text(
    text: Any, parse_mode: Any, entities: Any, *, limit: int, too_long: str, empty: str | None = "message text is empty"
) -> tuple[str, list[dict[str, Any]] | None]:
    """Apply parse_mode (or explicit entities), trim, and check emptiness and the length limit.

    ``empty`` None allows an empty result (captions).
    """
    text = "" if text is None else str(text)
    if entities:
        if not isinstance(entities, list) or not all(
            isinstance(e, dict) and isinstance(e.get("offset"), int) and isinstance(e.get("length"), int) and e.get("type")
            for e in entities
        ):
            raise bad_request("can't parse entities JSON object")
        plain, ents = text, list(entities)
    elif parse_mode:
        parser = PARSERS.get(str(parse_mode).lower())
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            plain, ents = parser(text)
        except ParseError as err:
            raise bad_request(f"can't parse entities: {err}") from None
    else:
        plain, ents = text, []
    plain, ents = trim(plain, ents)
    if not plain and empty is not None:
        raise bad_request(empty)
    if len(plain) > limit:
        raise bad_request(too_long)
    return plain, (sort_entities(ents) if ents else None)


def _check_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise bad_request("can't parse inline keyboard button: Text must be a non-empty String")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request(BUTTON_DATA_INVALID)
    elif not _BUTTON_ACTIONS.intersection(button):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if "url" in button and (not isinstance(button["url"], str) or not button["url"].strip()):
        raise bad_request("BUTTON_URL_INVALID")


def check_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate a reply_markup object as Telegram does; returns it (or None)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
        for row in rows:
            for button in row:
                _check_button(button)
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
        for row in rows:
            for button in row:
                label = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                if not label:
                    raise bad_request("can't parse keyboard button: Text must be a non-empty String")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def resolve_thread(state: ChatState, thread_id: Any) -> int | None:
    """The topic a message goes to: None for General/non-forums, 400 for deleted/unknown topics."""
    group = state.group
    if thread_id is None or group is None or not group.is_forum or thread_id == GENERAL_TOPIC_ID:
        return None
    topic = group.topics.get(thread_id)
    if topic is None or topic.deleted:
        raise bad_request(THREAD_NOT_FOUND)
    return int(thread_id)


def resolve_reply(state: ChatState, params: dict[str, Any]) -> Message | None:
    """The message being replied to (reply_parameters or reply_to_message_id)."""
    rp = params.get("reply_parameters")
    allow = bool(params.get("allow_sending_without_reply"))
    if isinstance(rp, dict):
        if rp.get("chat_id") not in (None, state.chat_id):
            return None
        mid = rp.get("message_id")
        allow = allow or bool(rp.get("allow_sending_without_reply"))
    else:
        mid = params.get("reply_to_message_id")
    if mid is None:
        return None
    msg = state.get(mid)
    if msg is None and not allow:
        raise bad_request("message to be replied not found")
    return msg
