"""Bot API handlers for messages: send, edit, delete, media, copy/forward, actions, callbacks."""

from __future__ import annotations

from typing import Any, Callable

from bots.testing.standin.context import (
    Ctx,
    Upload,
    check_markup,
    format_text,
    resolve_reply,
    resolve_thread,
)
from bots.testing.standin.errors import (
    CANT_DELETE,
    CAPTION_TOO_LONG,
    DELETE_NOT_FOUND,
    EDIT_NOT_FOUND,
    MESSAGE_TOO_LONG,
    NOT_MODIFIED,
    QUERY_INVALID,
    bad_request,
)
from bots.testing.standin.model import ChatState, Message, StoredFile
from bots.testing.standin.world import media_object

DELETE_WINDOW = 48 * 3600
MEDIA_METHODS = {
    "senddocument": "document",
    "sendphoto": "photo",
    "sendvideo": "video",
    "sendaudio": "audio",
    "sendvoice": "voice",
    "sendanimation": "animation",
    "sendsticker": "sticker",
    "sendvideonote": "video_note",
}
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_KIND_NAMES = {"video_note": "VideoNote"}


def _reply_extra(reply: Message | None) -> dict[str, Any] | None:
    return {"reply_to_message": reply} if reply is not None else None


def send_message(ctx: Ctx) -> dict[str, Any]:
    """sendMessage."""
    p = ctx.params
    state = ctx.target(p["chat_id"])
    thread = resolve_thread(state, p.get("message_thread_id"))
    text, entities = format_text(p["text"], p.get("parse_mode"), p.get("entities"), limit=4096, too_long=MESSAGE_TOO_LONG)
    markup = check_markup(p.get("reply_markup"))
    reply = resolve_reply(state, p)
    msg = ctx.store(state, thread, text=text, entities=entities, reply_markup=markup, extra=_reply_extra(reply))
    return msg.to_api()


def _editable(ctx: Ctx) -> tuple[ChatState, Message]:
    p = ctx.params
    if p.get("inline_message_id") is not None:
        raise bad_request("MESSAGE_ID_INVALID")
    if p.get("chat_id") in (None, ""):
        raise bad_request("chat_id is empty")
    if p.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    state = ctx.target(p["chat_id"], sending=False)
    msg = state.get(p["message_id"])
    if msg is None:
        raise bad_request(EDIT_NOT_FOUND)
    if msg.bot_id != ctx.bot.id or msg.service:
        raise bad_request("message can't be edited")
    return state, msg


def _edited(ctx: Ctx, msg: Message) -> Any:
    msg.edit_date = int(ctx.world.now())
    ctx.world.notify()
    return msg.to_api()


def edit_message_text(ctx: Ctx) -> Any:
    """editMessageText (an edit without reply_markup removes the inline keyboard, as on Telegram)."""
    p = ctx.params
    _state, msg = _editable(ctx)
    if msg.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = format_text(p.get("text"), p.get("parse_mode"), p.get("entities"), limit=4096, too_long=MESSAGE_TOO_LONG)
    markup = check_markup(p.get("reply_markup"), inline_only=True)
    if text == msg.text and entities == (msg.entities or None) and markup == msg.reply_markup:
        raise bad_request(NOT_MODIFIED)
    msg.text, msg.entities, msg.reply_markup = text, entities, markup
    return _edited(ctx, msg)


def edit_message_caption(ctx: Ctx) -> Any:
    """editMessageCaption."""
    p = ctx.params
    _state, msg = _editable(ctx)
    if not msg.media:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = format_text(
        p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), limit=1024, too_long=CAPTION_TOO_LONG, empty=None
    )
    markup = check_markup(p.get("reply_markup"), inline_only=True)
    new_caption = caption or None
    if new_caption == msg.caption and entities == (msg.caption_entities or None) and markup == msg.reply_markup:
        raise bad_request(NOT_MODIFIED)
    msg.caption, msg.caption_entities, msg.reply_markup = new_caption, entities, markup
    return _edited(ctx, msg)


def edit_message_reply_markup(ctx: Ctx) -> Any:
    """editMessageReplyMarkup (no reply_markup removes the keyboard)."""
    _state, msg = _editable(ctx)
    markup = check_markup(ctx.params.get("reply_markup"), inline_only=True)
    if markup == msg.reply_markup or (not markup and not msg.reply_markup):
        raise bad_request(NOT_MODIFIED)
    msg.reply_markup = markup
    return _edited(ctx, msg)


def _deletable(ctx: Ctx, state: ChatState, message_id: Any) -> Message:
    msg = state.get(message_id)
    if msg is None:
        raise bad_request(DELETE_NOT_FOUND)
    if (msg.extra and "forum_topic_created" in msg.extra) or ctx.world.now() - msg.date > DELETE_WINDOW:
        raise bad_request(CANT_DELETE)
    return msg


def delete_message(ctx: Ctx) -> bool:
    """deleteMessage: 400 for unknown/deleted messages and for messages older than 48 h."""
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"])
    _deletable(ctx, state, ctx.params["message_id"]).deleted = True
    ctx.world.notify()
    return True


def delete_messages(ctx: Ctx) -> bool:
    """deleteMessages: 1-100 ids; ids that can't be deleted are skipped."""
    ids = ctx.params["message_ids"]
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 message identifiers")
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"])
    deleted = 0
    for mid in ids:
        msg = state.get(mid)
        if (
            msg is not None
            and not (msg.extra and "forum_topic_created" in msg.extra)
            and ctx.world.now() - msg.date <= DELETE_WINDOW
        ):
            msg.deleted = True
            deleted += 1
    if not deleted:
        raise bad_request(DELETE_NOT_FOUND)
    ctx.world.notify()
    return True


def _kind_name(kind: str) -> str:
    return _KIND_NAMES.get(kind, kind.capitalize())


def resolve_file(ctx: Ctx, value: Any, kind: str) -> StoredFile:
    """An uploaded part, an ``attach://`` reference, a URL or a known file_id → the stored file."""
    if isinstance(value, str) and value.startswith("attach://"):
        value = ctx.uploads.get(value[len("attach://") :])
    if isinstance(value, Upload):
        return ctx.world.new_file(kind, value.data, file_name=value.filename, mime_type=value.content_type)
    if not isinstance(value, str) or not value:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if value.startswith(("http://", "https://")):
        name = value.rsplit("/", 1)[-1] or None
        return ctx.world.new_file(kind, None, file_name=name)  # not fetched: the stand-in is offline
    stored = ctx.world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind and not (kind == "document" and stored.kind != "photo"):
        raise bad_request(f"can't use file of type {_kind_name(stored.kind)} as {_kind_name(kind)}")
    return stored


def send_media(ctx: Ctx) -> dict[str, Any]:
    """sendDocument / sendPhoto / sendVideo / sendAudio / sendVoice / sendAnimation / sendSticker."""
    p = ctx.params
    kind = MEDIA_METHODS[ctx.method]
    state = ctx.target(p["chat_id"])
    thread = resolve_thread(state, p.get("message_thread_id"))
    caption, cap_entities = format_text(
        p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), limit=1024, too_long=CAPTION_TOO_LONG, empty=None
    )
    markup = check_markup(p.get("reply_markup"))
    reply = resolve_reply(state, p)
    stored = resolve_file(ctx, p[kind], kind)
    msg = ctx.store(
        state,
        thread,
        media={kind: media_object(stored)},
        caption=caption or None,
        caption_entities=cap_entities,
        reply_markup=markup,
        extra=_reply_extra(reply),
    )
    return msg.to_api()


def _source(ctx: Ctx, what: str) -> Message:
    p = ctx.params
    src_state = ctx.world.resolve_chat(ctx.bot, p["from_chat_id"])
    src = src_state.get(p["message_id"])
    if src is None:
        raise bad_request(f"message to {what} not found")
    if src.service:
        raise bad_request(f"message can't be {what.rstrip('y')}{'ied' if what == 'copy' else 'ed'}")
    return src


def copy_message(ctx: Ctx) -> dict[str, Any]:
    """copyMessage: same content, no link to the original; returns MessageId."""
    p = ctx.params
    state = ctx.target(p["chat_id"])
    thread = resolve_thread(state, p.get("message_thread_id"))
    src = _source(ctx, "copy")
    caption, cap_entities = src.caption, src.caption_entities
    if "caption" in p:
        caption, cap_entities = format_text(
            p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), limit=1024, too_long=CAPTION_TOO_LONG, empty=None
        )
        caption = caption or None
    markup = check_markup(p.get("reply_markup"))
    reply = resolve_reply(state, p)
    msg = ctx.store(
        state,
        thread,
        text=src.text,
        entities=src.entities,
        media=src.media,
        caption=caption,
        caption_entities=cap_entities,
        reply_markup=markup,
        extra=_reply_extra(reply),
    )
    return {"message_id": msg.message_id}


def forward_message(ctx: Ctx) -> dict[str, Any]:
    """forwardMessage: the copy carries forward_origin (sender and original date)."""
    p = ctx.params
    state = ctx.target(p["chat_id"])
    thread = resolve_thread(state, p.get("message_thread_id"))
    src = _source(ctx, "forward")
    origin = {"type": "user", "date": src.date, "sender_user": src.sender}
    msg = ctx.store(
        state,
        thread,
        text=src.text,
        entities=src.entities,
        media=src.media,
        caption=src.caption,
        caption_entities=src.caption_entities,
        extra={"forward_origin": origin},
    )
    return msg.to_api()


def send_chat_action(ctx: Ctx) -> bool:
    """sendChatAction: recorded per chat (see ``BotApiStandin.chat_actions``)."""
    action = ctx.params["action"]
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state = ctx.target(ctx.params["chat_id"], sending=False)
    state.actions.append((action, ctx.world.now()))
    ctx.world.notify()
    return True


def answer_callback_query(ctx: Ctx) -> bool:
    """answerCallbackQuery: once per query, by the bot that received it."""
    p = ctx.params
    record = ctx.world.queries.get(str(p["callback_query_id"]))
    if record is None or record.bot_id != ctx.bot.id or record.answer is not None:
        raise bad_request(QUERY_INVALID)
    record.answer = {k: p[k] for k in ("text", "show_alert", "url", "cache_time") if p.get(k) is not None}
    ctx.world.notify()
    return True


def get_file(ctx: Ctx) -> dict[str, Any]:
    """getFile: a file_path to download from ``/file/bot<token>/<file_path>``."""
    stored = ctx.world.files.get(str(ctx.params["file_id"]))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "file_path": stored.file_path,
    }


HANDLERS: dict[str, Callable[[Ctx], Any]] = {
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "deletemessages": delete_messages,
    "copymessage": copy_message,
    "forwardmessage": forward_message,
    "sendchataction": send_chat_action,
    "answercallbackquery": answer_callback_query,
    "getfile": get_file,
    **{name: send_media for name in MEDIA_METHODS},
}
