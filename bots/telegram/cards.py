"""What the moderators read: the card of a handoff, notices, the queue, in their language.

Pure: texts are Telegram HTML with every value escaped. Nothing here names the person:
they appear by pseudonym only (`alias`), with the answers their flow did not mark sensitive.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets
from collections.abc import Sequence
from typing import Any

from babel.dates import format_datetime, format_timedelta
from markupsafe import Markup

from bots.engine.i18n import Translator, native_name
from bots.engine.model import BotConfig
from bots.engine.texts import BUILTIN, BUILTIN_CONTEXT
from bots.storage import Handoff

TOPIC_NAME_LIMIT = 128
CARD_LIMIT = 3500  # below Telegram's 4096, for the notes added when it is edited
ANSWER_LIMIT = 200
ALIAS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
BUTTON_PREFIX = "H:"  # callback data of card buttons: H:<handoff id>:<action>
DONE_MARK = "✅"


def new_alias() -> str:
    """A short pseudonym for the person, shown to moderators: four letters and digits."""
    return "".join(secrets.choice(ALIAS_ALPHABET) for _ in range(4))


def topic_name(topic: str, alias: str, *, closed: bool = False) -> str:
    suffix = f" · {alias}"
    prefix = f"{DONE_MARK} " if closed else ""
    room = TOPIC_NAME_LIMIT - len(suffix) - len(prefix)
    name = " ".join(topic.split()) or "?"
    if len(name) > room:
        name = name[: room - 1].rstrip() + "…"
    return f"{prefix}{name}{suffix}"


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    text = " ".join(text.split())
    if len(text) > ANSWER_LIMIT:
        text = text[: ANSWER_LIMIT - 1] + "…"
    return html.escape(text, quote=False)


class ModeratorTexts:
    """The moderators' texts in one language, with the time zone their times are shown in."""

    def __init__(self, translator: Translator, lang: str, zone: dt.tzinfo = dt.timezone.utc) -> None:
        self.translator = translator
        self.lang = lang
        self.zone = zone

    @classmethod
    def for_bot(cls, config: BotConfig, translator: Translator) -> ModeratorTexts:
        """A bot's moderators' texts, as its `bot.yaml` says: in `moderators_locale` (else the
        source language), times in the time zone of its `hours` (else UTC)."""
        zone = config.hours.zone if config.hours else dt.timezone.utc
        return cls(translator, config.moderators_locale or config.source_locale, zone)

    def __call__(self, key: str, **params: Any) -> Markup:
        """The text `key` as Telegram HTML, with `params` escaped (except `Markup` ones, already
        HTML). Plain values are escaped as Telegram needs (`<`, `>`, `&`; quotes kept as typed)."""
        shown = {
            name: value if isinstance(value, Markup) else html.escape(str(value), quote=False) for name, value in params.items()
        }
        return Markup(self._format(key, shown))

    def plain(self, key: str, **params: Any) -> str:
        """The text `key` as plain text (button labels, topic names)."""
        return self._format(key, {name: str(value) for name, value in params.items()})

    def _format(self, key: str, params: dict[str, str]) -> str:
        translated = self.translator.translate(self.lang, BUILTIN[key], BUILTIN_CONTEXT)
        try:
            return translated.format(**params)
        except (KeyError, IndexError, ValueError):  # a translation with broken placeholders
            return BUILTIN[key].format(**params)

    def duration(self, seconds: float) -> str:
        return format_timedelta(dt.timedelta(seconds=max(seconds, 60)), threshold=1.5, locale=self.lang.replace("-", "_"))

    def time(self, timestamp: float) -> str:
        moment = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
        return format_datetime(moment, "d MMM, HH:mm zzz", tzinfo=self.zone, locale=self.lang.replace("-", "_"))

    # --- the card -------------------------------------------------------------------------

    def card(self, handoff: Handoff, bot_name: str, answers: dict[str, Any] | None, *, forum: bool) -> str:
        """The card; `answers` None leaves them out (a card posted again after its topic was deleted)."""
        title = self("mod_card_application" if handoff.application else "mod_card_chat", topic=handoff.topic)
        lines = [
            f"<b>{title}</b>",
            self("mod_card_person", alias=handoff.alias, language=f"{native_name(handoff.lang)} ({handoff.lang})"),
            self("mod_card_where", bot=bot_name, flow=handoff.flow, node=handoff.node),
            self("mod_card_since", time=self.time(handoff.opened_at)),
            "",
        ]
        if answers is None:
            lines.pop()
        elif answers:
            lines.append(self("mod_card_answers"))
            size = sum(len(line) + 1 for line in lines)
            for name, value in answers.items():
                line = f"• {html.escape(str(name), quote=False)}: {_value(value)}"
                if size + len(line) > CARD_LIMIT:
                    lines.append("• …")
                    break
                lines.append(line)
                size += len(line) + 1
        else:
            lines.append(self("mod_card_no_answers"))
        lines += ["", f"<i>{self('mod_card_help_topic' if forum else 'mod_card_help_reply')}</i>"]
        return "\n".join(lines)

    def card_buttons(self, handoff: Handoff) -> dict[str, Any]:
        def button(label: str, action: str) -> dict[str, str]:
            return {"text": label, "callback_data": f"{BUTTON_PREFIX}{handoff.id}:{action}"}

        claim = (
            self.plain("mod_button_claimed", name=handoff.claimed_by) if handoff.claimed_by else self.plain("mod_button_claim")
        )
        rows = [[button(claim, "claim")]]
        if handoff.application:
            rows.append([button(self.plain("mod_button_accept"), "accept"), button(self.plain("mod_button_decline"), "decline")])
        rows.append([button(self.plain("mod_button_close"), "close"), button(self.plain("mod_button_return"), "return")])
        return {"inline_keyboard": rows}

    # --- the queue ------------------------------------------------------------------------

    def queue(self, handoffs: Sequence[Handoff], now: float, link: Any) -> str:
        if not handoffs:
            return self("mod_queue_empty")
        lines = [f"<b>{self('mod_queue_title', count=len(handoffs))}</b>"]
        for handoff in handoffs:
            claimed = self("mod_queue_claimed", name=handoff.claimed_by) if handoff.claimed_by else self("mod_queue_unclaimed")
            line = self(
                "mod_queue_line",
                alias=handoff.alias,
                topic=handoff.topic,
                wait=self.duration(now - handoff.opened_at),
                claimed=claimed,
            )
            url = link(handoff)
            lines.append(f'• <a href="{html.escape(url)}">{line}</a>' if url else f"• {line}")
        return "\n".join(lines)
