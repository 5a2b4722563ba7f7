"""The moderators' desk: handoffs in the moderators' supergroup, one forum topic per person.

A handoff opens a topic (named from the node's `topic` and the person's pseudonym) with a
card; what the person sends is copied into it, and what a moderator writes there is copied
to the person as the bot (`copyMessage`: nothing links back to the moderator). Lines that
start with `!` stay in the group. In a group without topics the same works by replies: every
message posted for a handoff is remembered, and a reply to one reaches its person.

Calls go through the delivery journal like any other; the ones that depend on what Telegram
created earlier (the topic, the card) are delivered with a `Placement` (see `bots.calls`)
that `prepare` and `sent` resolve at send time.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bots.calls import BotApiCall, Delivery, Placement
from bots.engine.model import BotConfig
from bots.engine.outputs import CloseHandoff, OpenHandoff, Output, Relay
from bots.storage import (
    Closed,
    Handoff,
    HandoffChange,
    IncomingUpdate,
    Opened,
    OutgoingCall,
    SQLStore,
)
from bots.storage.journal import journal_entries
from bots.storage.outcome import Outcome
from bots.telegram.cards import (
    ModeratorTexts,
    new_alias,
    topic_name,
)
from bots.telegram.lifecycle import Service
from bots.telegram.pacing import Pacer

log = logging.getLogger(__name__)


TOPIC_GONE = ("thread not found", "topic_deleted", "topic not found", "topic_id_invalid")
NOT_A_FORUM = ("not a forum", "chat_not_forum", "not enough rights to create a topic", "not enough rights to manage topics")
RESPONSE_BUCKETS = (("15m", 15 * 60), ("1h", 3600), ("4h", 4 * 3600), ("1d", 86400))


def handoff_counts(changes: Sequence[HandoffChange]) -> list[tuple[str, str, float]]:
    """The report counters for handoffs opened and closed."""
    counts: list[tuple[str, str, float]] = []
    for change in changes:
        if isinstance(change, Opened):
            counts.append(("handoff_opened", "", 1.0))
        elif isinstance(change, Closed):
            counts.append(("handoff_closed", change.by, 1.0))
            if change.opened_at is not None:
                counts.append(("closing_seconds", "", max(0.0, change.at.timestamp() - change.opened_at)))
    return counts


class Desk(Service):
    """The moderators' side of one bot's handoffs: what is posted in their chat for each
    handoff, and the sender's hooks that place it (`prepare`, `sent`, `refused`)."""

    def __init__(
        self,
        bot_id: str,
        bot: Bot,
        store: SQLStore,
        *,
        moderators_chat: str,
        config: Callable[[], BotConfig],
        texts: ModeratorTexts,
        pacer: Pacer,
        deliver: Callable[[list[OutgoingCall]], None],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.bot_id = bot_id
        self.bot = bot
        self.store = store
        self.raw = moderators_chat
        self.chat_id: int | None = int(moderators_chat) if moderators_chat.lstrip("-").isdigit() else None
        #: the moderators' chat as the database knows it (a keyed hash, like every chat)
        self.chat = store.vault.chat_key(bot_id, moderators_chat) if self.chat_id is not None else ""
        self.forum = True  # learned at start (getChat); a refusal to create a topic turns it off
        self.config = config  # the bot's current bot.yaml (a reload changes it)
        self.texts = texts
        self.pacer = pacer
        self.deliver = deliver
        self.clock = clock
        self.username = ""

    @property
    def available(self) -> bool:
        return self.chat_id is not None

    async def start(self) -> None:
        env = self.config().moderators_chat_env
        self.username = self.bot.username or ""
        if not env:
            return
        if self.chat_id is None:
            problem = "is not set" if not self.raw else "is not a chat id (like -1001234567890)"
            log.warning("%s: %s %s: people who ask for a person will be told no one can be reached", self.bot_id, env, problem)
            return
        try:
            chat = await self.bot.get_chat(self.chat_id)
        except TelegramError as err:
            log.warning(
                "%s: cannot reach the moderators' chat (%s): add the bot to it as an admin who may manage topics",
                self.bot_id,
                type(err).__name__,
            )
            return
        self.forum = bool(chat.is_forum)
        log.info("%s: moderators' chat found (%s)", self.bot_id, "one topic per person" if self.forum else "replies, no topics")

    # --- from the person's side (inside their conversation's step) -----------------------

    async def current(self, chat: str, outputs: Sequence[Output]) -> Handoff | None:
        """The person's open handoff, looked up only when the step's outputs touch one (most
        steps: no look-up on the per-message path)."""
        if not any(isinstance(o, (OpenHandoff, Relay, CloseHandoff)) for o in outputs):
            return None
        return await self.store.open_handoff_of(self.bot_id, chat)

    def for_outputs(
        self,
        chat: str,
        person: int,
        lang: str,
        outputs: Sequence[Output],
        message_id: int | None,
        now: dt.datetime,
        current: Handoff | None,
    ) -> tuple[list[BotApiCall], list[HandoffChange]]:
        """Calls and handoff changes for the handoff outputs of one person's step, given their
        open handoff (`current`); no I/O."""
        calls: list[BotApiCall] = []
        changes: list[HandoffChange] = []
        for output in outputs:
            if isinstance(output, OpenHandoff) and self.available:
                if current is not None:  # never two at once
                    changes.append(Closed(current.id, "restart", now, current.opened_at))
                    calls += self.closing(current, self.texts("mod_person_restarted"))
                current = self._new(output, chat, person, lang, now)
                changes.append(Opened(current))
                calls += self.opening(current, output.answers)
            elif isinstance(output, Relay) and current is not None and message_id is not None:
                calls.append(self._post(current, "copyMessage", from_chat_id=person, message_id=message_id))
            elif isinstance(output, CloseHandoff) and current is not None:
                key = "mod_person_ended" if output.by == "person" else "mod_person_restarted"
                changes.append(Closed(current.id, output.by, now, current.opened_at))
                calls += self.closing(current, self.texts(key))
                current = None
        return calls, changes

    def _new(self, output: OpenHandoff, chat: str, person: int, lang: str, now: dt.datetime) -> Handoff:
        return Handoff(
            id=secrets.token_hex(6),
            bot=self.bot_id,
            chat=chat,
            alias=new_alias(),
            flow=output.flow,
            node=output.node,
            topic=output.topic,
            lang=lang,
            application=output.application,
            mod_chat=self.chat,
            opened_at=now.timestamp(),
            person=person,
        )

    def _call(self, method: str, placement: Placement | None = None, **params: Any) -> BotApiCall:
        """A call in the moderators' chat: quiet (no apology to anyone if it is refused)."""
        return BotApiCall(self.chat, method, {"chat_id": self.chat_id, **params}, Delivery(quiet=True, handoff=placement))

    def opening(self, handoff: Handoff, answers: dict[str, Any] | None, *, notice: str | None = None) -> list[BotApiCall]:
        calls: list[BotApiCall] = []
        if self.forum:
            calls.append(
                self._call(
                    "createForumTopic", Placement(handoff.id, place="topic"), name=topic_name(handoff.topic, handoff.alias)
                )
            )
        card = self.texts.card(handoff, self._bot_name(), answers, forum=self.forum)
        if notice:
            card = f"<i>{notice}</i>\n\n{card}"
        calls.append(
            self._call(
                "sendMessage",
                Placement(handoff.id, place="card", in_topic=True),
                text=card,
                parse_mode="HTML",
                reply_markup=self.texts.card_buttons(handoff),
            )
        )
        return calls

    def closing(self, handoff: Handoff, notice: str) -> list[BotApiCall]:
        """Tell the topic, take the card's buttons away, mark and close the topic."""
        in_topic_only = Placement(handoff.id, in_topic=True, topic_only=True)
        return [
            self.notice(handoff, notice),
            self._call("editMessageReplyMarkup", Placement(handoff.id, card_of=True)),
            self._call("editForumTopic", in_topic_only, name=topic_name(handoff.topic, handoff.alias, closed=True)),
            self._call("closeForumTopic", in_topic_only),
        ]

    async def erasing(self, handoff: Handoff) -> list[BotApiCall]:
        """The calls that remove a handoff from the moderators' chat: its topic, or (without
        topics) its card and every message posted for it. The rows go in the same step."""
        if self.chat_id is None or handoff.mod_chat != self.chat:
            return []
        if handoff.thread:
            return [self._call("deleteForumTopic", message_thread_id=handoff.thread)]
        posted = await self.store.relayed_messages(handoff.id)
        if handoff.card:
            posted.append(handoff.card)
        posted = sorted(set(posted))
        return [self._call("deleteMessages", message_ids=posted[i : i + 100]) for i in range(0, len(posted), 100)]

    def _post(self, handoff: Handoff, method: str, **params: Any) -> BotApiCall:
        return self._call(method, Placement(handoff.id, place="relay", in_topic=True), **params)

    def notice(self, handoff: Handoff, text: str) -> BotApiCall:
        return self._post(handoff, "sendMessage", text=text, parse_mode="HTML")

    def _bot_name(self) -> str:
        return self.config().name

    # --- the sender's hooks ----------------------------------------------------------------

    async def prepare(self, call: OutgoingCall) -> dict[str, Any] | None:
        """The call's final parameters, with the topic or card filled in; None to skip it."""
        params = dict(call.params)
        placement = call.delivery.handoff
        if placement is None:
            return params
        handoff = await self.store.handoff(placement.handoff)
        if handoff is None:  # forgotten meanwhile
            return None
        if placement.card_of:
            if handoff.card is None:
                return None
            params["message_id"] = handoff.card
        if placement.in_topic:
            if handoff.thread:
                params["message_thread_id"] = handoff.thread
            elif placement.topic_only:
                return None
            elif handoff.card is not None and placement.place != "card":
                params["reply_parameters"] = {"message_id": handoff.card, "allow_sending_without_reply": True}
        return params

    async def sent(self, call: OutgoingCall, result: Any) -> None:
        """Remember what Telegram created: the topic, the card, each message posted."""
        placement = call.delivery.handoff
        if placement is None or placement.place is None or not isinstance(result, dict):
            return
        handoff_id, place = placement.handoff, placement.place
        if place == "topic" and result.get("message_thread_id"):
            await self.store.set_handoff_place(str(handoff_id), thread=int(result["message_thread_id"]))
        elif place == "card" and result.get("message_id"):
            await self.store.set_handoff_place(str(handoff_id), card=int(result["message_id"]))
        elif place == "relay" and result.get("message_id"):
            await self.store.remember_relay(self.bot_id, self.chat, int(result["message_id"]), str(handoff_id))

    async def refused(self, call: OutgoingCall, err: BadRequest) -> bool:
        """A 400 for a handoff's call. True: try the call again (the topic was made anew)."""
        placement = call.delivery.handoff
        handoff = await self.store.handoff(placement.handoff) if placement is not None else None
        reason = str(err.message).lower()
        if handoff is None or placement is None:
            return False
        if call.method == "createForumTopic":
            if any(r in reason for r in NOT_A_FORUM):
                self.forum = False
                log.error(
                    "%s: cannot create topics in the moderators' chat: make it a forum and the bot an admin who may "
                    "manage topics; until then conversations go to the chat itself, by replies",
                    self.bot_id,
                )
            return False
        if any(r in reason for r in TOPIC_GONE) and call.chat == self.chat:
            if not handoff.is_open or placement.topic_only:
                return False
            log.warning("%s: a handoff's topic was deleted by hand: opening it again", self.bot_id)
            return await self._reopen(handoff)
        if call.chat != self.chat:  # a moderator's message did not reach the person
            out = self.notice(handoff, self.texts("mod_not_delivered", reason=str(err.message).split(":")[-1].strip()[:80]))
            await self.journal([out], None, [])
        return False

    async def _reopen(self, handoff: Handoff) -> bool:
        """The topic is gone: make a new one at once, with a short card, before the call is tried again."""
        if self.chat_id is None:  # no moderators' chat: nothing to open again, the call is not retried
            return False
        await self.store.set_handoff_place(handoff.id, thread=0)
        try:
            await self.pacer.acquire(self.chat_id)
            topic = await self.bot.create_forum_topic(self.chat_id, topic_name(handoff.topic, handoff.alias))
            await self.store.set_handoff_place(handoff.id, thread=topic.message_thread_id)
            fresh = await self.store.handoff(handoff.id)
            if fresh is None:  # forgotten meanwhile: the call goes with it
                return False
            text = f"<i>{self.texts('mod_topic_recreated')}</i>\n\n" + self.texts.card(fresh, self._bot_name(), None, forum=True)
            await self.pacer.acquire(self.chat_id)
            card = await self.bot.send_message(
                self.chat_id,
                text,
                parse_mode="HTML",
                message_thread_id=topic.message_thread_id,
                reply_markup=self.texts.card_buttons(fresh),  # type: ignore[arg-type]
                protect_content=self.config().protect_content or None,
            )
            await self.store.set_handoff_place(handoff.id, card=card.message_id)
        except TelegramError as err:
            log.error("%s: could not open the topic again (%s): going on without topics", self.bot_id, type(err).__name__)
            self.forum = False
        return True

    async def person_gone(self, chat: str) -> None:
        """The person blocked the bot: close their handoff and tell the moderators."""
        if chat == self.chat:
            log.error("%s: the bot was removed from the moderators' chat or may not write there (403)", self.bot_id)
            return
        handoff = await self.store.open_handoff_of(self.bot_id, chat)
        if handoff is None:
            return
        now = self.clock()
        await self.journal(
            self.closing(handoff, self.texts("mod_person_blocked")), None, [Closed(handoff.id, "blocked", now, handoff.opened_at)]
        )

    # --- journalling -------------------------------------------------------------------------

    async def journal(self, outs: list[BotApiCall], incoming: IncomingUpdate | None, changes: list[HandoffChange]) -> None:
        calls = journal_entries(self.bot_id, outs)
        now = self.clock()
        await self.store.commit(
            Outcome(update=incoming, calls=calls, handoffs=changes, counts=handoff_counts(changes), bot=self.bot_id), now=now
        )
        self.deliver(calls)

    async def answered(self, handoff: Handoff) -> None:
        """A moderator's first reply reached (or went to) the person: counted once, for reports."""
        if handoff.first_reply_at is not None:
            return
        now = self.clock()
        await self.store.mark_first_reply(handoff.id, now=now)
        seconds = max(0.0, now.timestamp() - handoff.opened_at)
        bucket = next((name for name, limit in RESPONSE_BUCKETS if seconds <= limit), "more")
        counts = [("handoff_answered", "", 1.0), ("first_response_seconds", "", seconds), ("first_response_bucket", bucket, 1.0)]
        await self.store.add_counts(self.bot_id, counts, now=now)
