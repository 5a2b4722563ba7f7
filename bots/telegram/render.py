"""Engine outputs as Bot API calls: messages with inline keyboards, edits, documents.

Pure: given the outputs of one step and what the person pressed (if anything), it returns
the calls to make, in order. Texts are already Telegram HTML with every value escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from bots.calls import BotApiCall, Delivery
from bots.engine.outputs import Chosen, Output, Say
from bots.telegram.splitting import TEXT_LIMIT, split_text

__all__ = ["Pressed", "TEXT_LIMIT", "keyboard", "render", "split_text"]

CHOSEN_MARK = "✅"


@dataclass(frozen=True)
class Pressed:
    """The message whose button was pressed: its id and its text as Telegram HTML."""

    message_id: int
    html: str


def keyboard(say: Say) -> dict[str, Any] | None:
    if not say.buttons:
        return None
    return {"inline_keyboard": [[{"text": b.label, "callback_data": b.data}] for b in say.buttons]}


def render(
    chat: str, chat_id: int, outputs: list[Output], pressed: Pressed | None, delivery: Delivery | None = None
) -> list[BotApiCall]:
    """The calls for one step in the chat `chat` (its key; `chat_id` is Telegram's), each to
    be delivered as `delivery` says. The edit that marks a pressed button's choice goes last:
    the person sees the next question first, and the old message changes a moment later."""
    how = delivery or Delivery()

    def call(method: str, params: dict[str, Any]) -> BotApiCall:
        return BotApiCall(chat, method, params, how)

    calls: list[BotApiCall] = []
    marks: list[BotApiCall] = []
    edited = False  # the pressed message may be edited once; later questions are new messages
    for output in outputs:
        if isinstance(output, Chosen) and pressed is not None and not edited:
            text = f"{pressed.html}\n\n{CHOSEN_MARK} {html.escape(output.label, quote=False)}"
            if len(text) <= TEXT_LIMIT:
                marks.append(
                    call(
                        "editMessageText",
                        {"chat_id": chat_id, "message_id": pressed.message_id, "text": text, "parse_mode": "HTML"},
                    )
                )
            else:
                marks.append(call("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": pressed.message_id}))
            edited = True
        elif isinstance(output, Say):
            calls += [
                call(method, params)
                for method, params in _say(chat_id, output, pressed if (output.replace and not edited) else None)
            ]
            if output.replace and pressed is not None:
                edited = True
    return calls + marks


def _say(chat_id: int, say: Say, replace: Pressed | None) -> list[tuple[str, dict[str, Any]]]:
    markup = keyboard(say)
    if replace is not None and len(say.text) <= TEXT_LIMIT and say.text:
        params: dict[str, Any] = {"chat_id": chat_id, "message_id": replace.message_id, "text": say.text, "parse_mode": "HTML"}
        if markup:
            params["reply_markup"] = markup
        return [("editMessageText", params)]
    calls: list[tuple[str, dict[str, Any]]] = []
    if say.text.strip():
        chunks = split_text(say.text)
        for index, chunk in enumerate(chunks):
            params = {"chat_id": chat_id, "text": chunk, "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
            if markup and index == len(chunks) - 1:
                params["reply_markup"] = markup
            calls.append(("sendMessage", params))
    if say.document:
        calls.append(("sendDocument", {"chat_id": chat_id, "document": {"path": say.document}}))
    return calls
