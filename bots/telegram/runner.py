"""One bot on Telegram: updates in (durably), engine steps, calls out (durably).

The conversation state belongs to the engine and the store, not to python-telegram-bot:
PTB's `Bot` makes the HTTP calls and parses updates; ordering, de-duplication and retries
are ours, because PTB's own Updater confirms an update as soon as it is queued.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import Bot
from telegram.error import TelegramError

from bots.calls import BotApiCall, Delivery
from bots.engine import Engine, StepContext
from bots.engine import events as ev
from bots.engine.asides import vanish_seconds
from bots.engine.i18n import Translator
from bots.engine.outputs import (
    ExitNow,
    ForgetMe,
    Metric,
    OpenHandoff,
    Output,
    Problem,
    Subscription,
    VanishChosen,
)
from bots.engine.project import Project
from bots.engine.state import ConversationState
from bots.engine.texts import BUILTIN, BUILTIN_CONTEXT
from bots.privacy.pseudonyms import Pseudonyms
from bots.storage import (
    Closed,
    ConversationKey,
    Handoff,
    HandoffChange,
    IncomingUpdate,
    OutgoingCall,
    SQLStore,
)
from bots.storage.journal import journal_entries
from bots.storage.outcome import Outcome, Subscribed
from bots.telegram import metrics
from bots.telegram import vanish as vanishing
from bots.telegram.cards import ModeratorTexts
from bots.telegram.chats import ChatWorkers
from bots.telegram.desk import Desk, handoff_counts
from bots.telegram.desk_commands import ModeratorCommands
from bots.telegram.flood import FloodGuard, Verdict
from bots.telegram.intake import (
    ForModerators,
    Membership,
    OutsidePrivate,
    PersonInput,
    chat_of,
    classify,
    read_update,
)
from bots.telegram.lifecycle import Service
from bots.telegram.menu import CommandMenu
from bots.telegram.pacing import Pacer
from bots.telegram.render import Pressed, render
from bots.telegram.sender import Sender

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
STOP_GRACE = 10.0
SEND_GRACE = 2.0
SWEEP_AGE = 3.0  # an update waiting this long on a shared database is anyone's to process


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Turn:
    """A turn to take: whose conversation, from which state, through which events, and what
    came with it (the update, the person's message, the pressed message; a moderator's
    closing adds its calls and handoff change)."""

    key: ConversationKey
    person: int
    state: ConversationState | None
    events: list[ev.Event]
    context: StepContext
    incoming: IncomingUpdate | None
    message_id: int | None = None
    pressed: Pressed | None = None
    extra: Sequence[BotApiCall] = ()
    changes: Sequence[HandoffChange] = ()


@dataclass(frozen=True)
class Taken:
    """A turn the engine took: what the outcome is collected from."""

    turn: Turn
    state: ConversationState | None  # after the turn
    outputs: list[Output]
    handoff: Handoff | None  # the person's open handoff, when the step touched one


class BotRunner(Service):
    """Runs one bot of the project: `start()` it (or `async with`), feed it with `receive()`, then `stop()`."""

    def __init__(
        self,
        project: Project,
        bot_id: str,
        bot: Bot,
        store: SQLStore,
        translator: Translator,
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.bot_id = bot_id
        self.bot = bot
        self.store = store
        self.translator = translator
        self.engine = Engine(project, bot_id, translator)
        self.clock = clock
        self.pseudonyms = Pseudonyms(bot_id)
        self.pacer = pacer or Pacer()
        env = self.engine.bot.config.moderators_chat_env
        #: the moderators' group: the bot stays in it, and only there acts for moderators
        self.moderators_chat = os.environ.get(env, "").strip() if env else ""
        self.desk = Desk(
            bot_id,
            bot,
            store,
            moderators_chat=self.moderators_chat,
            config=lambda: self.engine.bot.config,
            texts=ModeratorTexts.for_bot(self.engine.bot.config, translator),
            pacer=self.pacer,
            deliver=lambda calls: self.sender.enqueue(calls),
            clock=lambda: self.clock(),
        )
        self.moderation = ModeratorCommands(self.desk, self)
        self.sender = Sender(
            bot_id,
            bot,
            store,
            self.pacer,
            self.pseudonyms,
            project.root / "knowledge",
            apology=self._apology,
            hooks=self.desk,
            protect=self.engine.bot.config.protect_content,
        )
        limits = self.engine.bot.config.flood
        self.flood = FloodGuard(limits.messages, limits.seconds, limits.pause)
        #: webhook workers behind one address each receive some of a person's updates: their
        #: flood control is kept in the database; the one poller of a bot sees them all
        self.flood_in_database = False
        #: a task per chat with updates in hand, processing them in order
        self.chats = ChatWorkers(bot_id, store, self.process, self.pseudonyms, clock)
        self._answers: set[asyncio.Task[None]] = set()
        self.menu = CommandMenu(bot_id, bot)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), register commands, and resume what a crash left."""
        await self.bot.initialize()
        await self.menu.register(self.engine.bot.config, self.translator, handoffs=self.desk.available)
        await self.desk.start()
        for update in await self.store.unprocessed_updates(self.bot_id):
            self.chats.dispatch(update)
        if self.store.shared:
            self.store.inbox_listener(self.chats.on_inbox)
        pending = await self.store.adopt_calls(self.bot_id, everything=not self.store.shared)
        if pending:
            log.info("%s: resuming %d unsent message(s)", self.bot_id, len(pending))
            self.sender.enqueue(pending)

    async def sweep(self) -> None:
        """Take over what nobody alive is doing: calls journalled by a worker that died (or
        by `bots forget`), and, on a shared database, updates recorded but left waiting."""
        adopted = await self.store.adopt_calls(self.bot_id, busy=set(self.sender.queues))
        if adopted:
            log.info("%s: took over %d unsent message(s) of a stopped worker", self.bot_id, len(adopted))
            # older than whatever this worker queued for those chats while it was taking them
            self.sender.enqueue(adopted, first=True)
        if self.store.shared:
            for chat in await self.store.waiting_chats(self.bot_id, received_before=self.clock().timestamp() - SWEEP_AGE):
                self.chats.trigger(chat)

    async def stop(self) -> None:
        """Finish the updates in hand, give the sender a moment, then let go."""
        await self.chats.finish(STOP_GRACE)
        await self.sender.wait_idle(SEND_GRACE)  # what is not sent by then is sent at the next start
        await self.sender.stop()
        await asyncio.gather(*self._answers, return_exceptions=True)
        await self.menu.settled()
        await self.chats.cancel()
        await self.bot.shutdown()

    def chat_key(self, chat: int | str) -> str:
        """How the database knows a chat: a keyed hash of its id (see `bots.privacy.vault`)."""
        return self.store.vault.chat_key(self.bot_id, chat) if chat != "" else ""

    def reload(self, project: Project, translator: Translator) -> None:
        """A new version of the flows: the next step of every conversation uses it."""
        if self.bot_id not in project.bots:
            log.warning("%s: the bot is gone from the changed project; it keeps its running version", self.bot_id)
            return
        before = self.engine.bot.config
        self.engine = Engine(project, self.bot_id, translator)
        self.translator = translator
        config = self.engine.bot.config
        self.desk.texts = ModeratorTexts.for_bot(config, translator)  # moderators_locale:, hours:
        self.sender.protect = config.protect_content
        self.flood.configure(config.flood.messages, config.flood.seconds, config.flood.pause)
        self.menu.update(config, translator, handoffs=self.desk.available)  # locales:, exit_command:, their translations
        for key in ("token_env", "moderators_chat_env", "retention_days"):  # read once, at the start (app.py)
            if getattr(before, key) != getattr(config, key):
                log.warning("%s: %s changed in bot.yaml: it takes effect when the bot is started again", self.bot_id, key)

    # --- updates in --------------------------------------------------------------------

    async def receive(self, updates: list[dict[str, object]]) -> int:
        """Record raw updates durably, then process them. Returns the highest update_id."""
        incoming = [
            IncomingUpdate(self.bot_id, int(u["update_id"]), self.chat_key(chat_of(u)), json.dumps(u, separators=(",", ":")))  # type: ignore[call-overload]
            for u in updates
        ]
        fresh = await self.store.record_updates(incoming, now=self.clock())
        metrics.update_received(self.bot_id, len(fresh))
        raw = {int(u["update_id"]): u for u in updates}  # type: ignore[call-overload]
        for update in fresh:
            verdict = await self._flood_verdict(update, raw.get(update.update_id, {}))
            if verdict is Verdict.ALLOW:
                self.chats.dispatch(update)
            else:  # dropped at once: a flood never occupies the chat's worker
                await self._drop_flood(update, raw.get(update.update_id, {}), warn=verdict is Verdict.WARN)
        return max((u.update_id for u in incoming), default=-1)

    async def _flood_verdict(self, update: IncomingUpdate, payload: dict[str, object]) -> Verdict:
        chat = chat_of(payload)
        if not chat or chat.startswith("-") or chat == self.moderators_chat:
            return Verdict.ALLOW  # groups are not people; the moderators are never slowed down
        if "my_chat_member" in payload:
            return Verdict.ALLOW
        if self.flood_in_database:  # the same limits whichever worker the update reached
            limits = self.engine.bot.config.flood
            return await self.store.flood_check(
                self.bot_id, update.chat, limit=limits.messages, window=limits.seconds, pause=limits.pause, now=time.time()
            )
        return self.flood.check(chat)

    async def _drop_flood(self, update: IncomingUpdate, payload: dict[str, object], *, warn: bool) -> None:
        calls = []
        if warn:
            chat = chat_of(payload)
            sender = next((p.get("from") for p in payload.values() if isinstance(p, dict) and "from" in p), None)
            preferred = sender.get("language_code") if isinstance(sender, dict) else None
            lang = self.engine.language_for(str(preferred) if preferred else None)
            text = self.translator.translate(lang, BUILTIN["flood_slow_down"], BUILTIN_CONTEXT)
            calls = self.to_calls(
                [BotApiCall(update.chat, "sendMessage", {"chat_id": int(chat), "text": text}, Delivery(quiet=True))]
            )
            log.info(
                "%s: %s sends too fast: paused for %.0fs (%s)",
                self.bot_id,
                self.pseudonyms.of(update.chat),
                self.flood.pause,
                self.flood.stats(),
            )
        await self.store.commit(Outcome.done(update, calls), now=self.clock())
        self.sender.enqueue(calls)

    # --- one update: the pipeline -----------------------------------------------------------

    @metrics.timed_step
    async def process(self, incoming: IncomingUpdate) -> None:
        """One update, in stages: read it, classify it (`bots.telegram.intake`); for a
        person's input load the conversation and take the given (`_turn`: the engine step,
        then the outcome, collected without I/O); commit the outcome in one transaction;
        hand its calls to the sender. The caller holds the conversation's lock."""
        update = read_update(json.loads(incoming.payload), self.bot)
        now = self.clock()
        moderators = self.moderators_chat if self.desk.available else ""
        given = classify(update, moderators_chat=moderators, text_event=self.engine.event_for_text)
        if isinstance(given, ForModerators):
            await self.moderation.on_update(incoming, update)
            return
        if isinstance(given, PersonInput):
            outcome = await self._person(given, incoming, now)
        elif isinstance(given, Membership):
            outcome = await self._membership(given, incoming, now)
        elif isinstance(given, OutsidePrivate) and given.leave and given.chat_id is not None:
            log.info("%s: added to a group that is not its moderators' chat: leaving it", self.bot_id)
            leave = BotApiCall(self.chat_key(given.chat_id), "leaveChat", {"chat_id": given.chat_id})
            outcome = Outcome.done(incoming, self.to_calls([leave]))
        else:  # a group or channel that is not the moderators' (people are served in private chats only), an edit
            outcome = Outcome.done(incoming)
        await self.store.commit(outcome, now=now)
        self.sender.enqueue(outcome.calls)
        if isinstance(given, PersonInput) and given.query_id is not None:
            self._answer_soon(given.query_id)

    async def _membership(self, given: Membership, incoming: IncomingUpdate, now: dt.datetime) -> Outcome:
        """The person blocked the bot (their calls are dropped, their handoff closed) or unblocked it."""
        person = self.chat_key(given.chat_id)
        await self.store.set_blocked(self.bot_id, person, given.blocked, now=now)
        if given.blocked:
            await self.store.drop_calls(self.bot_id, person)
            await self.desk.person_gone(person)
        return Outcome.done(incoming)

    async def _person(self, given: PersonInput, incoming: IncomingUpdate, now: dt.datetime) -> Outcome:
        """Load the person's conversation and take their turn."""
        key = ConversationKey(self.bot_id, self.chat_key(given.chat_id))
        state = await self.store.load(key)
        events: list[ev.Event] = [given.event]
        if (
            state is not None
            and state.status == "handoff"
            and not isinstance(given.event, ev.Start)
            and await self.store.open_handoff_of(self.bot_id, key.chat) is None
        ):  # the handoff was closed without the conversation knowing (blocked, forgotten)
            events.insert(0, ev.HandoffClosed(how="closed"))
        context = StepContext(now=now, first_name=given.first_name, language=given.language)
        return await self._turn(Turn(key, given.chat_id, state, events, context, incoming, given.message_id, given.pressed))

    async def _turn(self, turn: Turn) -> Outcome:
        """The engine steps through the turn's events; what that changes is collected as an
        `Outcome` for the caller to commit. Reads only what the outcome needs: the open
        handoff when the step touched one, the messages to delete when the person is
        forgotten. The caller holds the conversation's lock."""
        key, now = turn.key, turn.context.now
        state, outputs = self._step(turn.state, turn.events, turn.context)
        lang = state.lang if state is not None else self.engine.bot.config.locales[0]
        if any(isinstance(o, ExitNow) for o in outputs):  # the quick exit: forgotten, one harmless line, urgent
            farewell = self.engine.exit_line(lang)
            return vanishing.urgent(await self.forget(key, turn.person, turn.incoming, lang=lang, now=now, farewell=farewell))
        if any(isinstance(o, ForgetMe) for o in outputs):
            return await self.forget(key, turn.person, turn.incoming, lang=lang, now=now)
        return self._collect(Taken(turn, state, outputs, await self.desk.current(key.chat, outputs)))

    def _step(
        self, state: ConversationState | None, events: list[ev.Event], context: StepContext
    ) -> tuple[ConversationState | None, list[Output]]:
        """The engine stage: one step per event (a handoff with no moderators' chat is closed
        at once); flow problems are logged here, once."""
        outputs: list[Output] = []
        todo = list(events)
        while todo:
            result = self.engine.step(state, todo.pop(0), context)
            state = result.state
            outputs += result.outputs
            if not self.desk.available and any(isinstance(o, OpenHandoff) for o in result.outputs):
                todo.insert(0, ev.HandoffClosed(how="unavailable"))
        for output in outputs:
            if isinstance(output, Problem):
                log.error("%s: flow problem at %s: %s", self.bot_id, output.where, output.detail)
        return state, outputs

    def _collect(self, taken: Taken) -> Outcome:
        """The outcome stage, without I/O: the calls to make (the person's, the moderators'),
        handoff changes, counters, the message to remember, the vanishing schedule and the
        news subscription, all for one commit."""
        turn, state, outputs = taken.turn, taken.state, taken.outputs
        key, person, now = turn.key, turn.person, turn.context.now
        lang = state.lang if state is not None else self.engine.bot.config.locales[0]
        seconds = vanish_seconds(state, self.engine.bot.config)  # the chat's messages vanish after this (0: never)
        outs = render(key.chat, person, outputs, turn.pressed, Delivery(lang=lang, vanish=seconds or None))
        handoff_outs, handoff_changes = self.desk.for_outputs(
            key.chat, person, lang, outputs, turn.message_id, now, taken.handoff
        )
        reschedule: tuple[int, float] | None = None
        subscription: Subscribed | None = None
        for output in outputs:
            if isinstance(output, VanishChosen):
                reschedule = (person, float(output.seconds))
                choice = f"to vanish after {output.seconds}s" if output.seconds else "not to vanish"
                log.info("%s: %s chose %s", self.bot_id, self.pseudonyms.of(key.chat), choice)
            elif isinstance(output, Subscription):
                subscription = Subscribed("on" if output.on else "off", person, lang)
        spoke = turn.state.lang if turn.state is not None else None  # the language before the turn
        if subscription is None and spoke is not None and state is not None and state.lang != spoke:
            subscription = Subscribed("language", person, state.lang)  # the news follows the new language
        all_changes = [*turn.changes, *handoff_changes]
        counts = [(o.name, o.key, o.value) for o in outputs if isinstance(o, Metric)] + handoff_counts(all_changes)
        return Outcome(
            update=turn.incoming,
            key=key,
            state=state,
            calls=self.to_calls(outs + handoff_outs + list(turn.extra)),
            handoffs=all_changes,
            messages=[turn.message_id] if turn.message_id is not None else [],
            counts=counts,
            vanish=(person, float(seconds)) if seconds else None,
            reschedule=reschedule,
            subscription=subscription,
        )

    async def forget(
        self,
        key: ConversationKey,
        chat_id: int,
        incoming: IncomingUpdate | None,
        *,
        lang: str | None,
        now: dt.datetime,
        farewell: str | None = None,
    ) -> Outcome:
        """What forgetting the person takes, to commit: every row about them deleted, the
        bot's and their messages of the last 48 hours in the chat and their handoffs' topics
        (or relayed copies) deleted in Telegram; then, with `lang`, they are told it is done
        (or left `farewell`, the quick exit's line). The caller holds the conversation's lock."""
        outs: list[BotApiCall] = []
        recent = await self.store.recent_messages(self.bot_id, key.chat, now=now)
        if incoming is not None:
            payload = json.loads(incoming.payload)
            query = payload.get("callback_query") or {}
            if isinstance(query.get("message"), dict):  # the confirmation itself
                recent.append(int(query["message"]["message_id"]))
            message = payload.get("message") or {}
            if isinstance(message, dict) and message.get("message_id"):  # the command that asked (the quick exit)
                recent.append(int(message["message_id"]))
        recent = sorted(set(recent))
        for start in range(0, len(recent), 100):
            outs.append(
                BotApiCall(
                    key.chat,
                    "deleteMessages",
                    {"chat_id": chat_id, "message_ids": recent[start : start + 100]},
                    Delivery(quiet=True),
                )
            )
        for handoff in await self.store.handoffs_of(self.bot_id, key.chat):
            outs += await self.desk.erasing(handoff)
        if lang is not None:
            done = farewell if farewell is not None else self.translator.translate(lang, BUILTIN["forget_done"], BUILTIN_CONTEXT)
            outs.append(
                BotApiCall(key.chat, "sendMessage", {"chat_id": chat_id, "text": done}, Delivery(quiet=True, unrecorded=True))
            )
        log.info("%s: forgetting %s at their request", self.bot_id, self.pseudonyms.of(key.chat))
        return Outcome(update=incoming, key=key, calls=self.to_calls(outs), forget=True)

    def to_calls(self, outs: list[BotApiCall]) -> list[OutgoingCall]:
        """Journal entries for calls, numbered in order within each chat."""
        return journal_entries(self.bot_id, outs)

    @property
    def project(self) -> Project:
        """The flows the bot runs now (a reload changes them)."""
        return self.engine.project

    async def close_handoff(
        self,
        handoff: Handoff,
        how: ev.HandoffEnding,
        notice: str,
        *,
        resume_at: str | None = None,
        incoming: IncomingUpdate | None = None,
    ) -> bool:
        """A moderator ended the handoff: the person's flow goes on, the topic is told and closed."""
        key = ConversationKey(self.bot_id, handoff.chat)
        now = self.clock()
        async with self.store.lock(key):
            current = await self.store.handoff(handoff.id)
            if current is None or not current.is_open:
                return False
            state = await self.store.load(key)
            events: list[ev.Event] = []
            if state is not None and state.status == "handoff":
                events.append(ev.HandoffClosed(resume_at=resume_at, how=how))
            context = StepContext(now=now, first_name="", language=None)
            closing = self.desk.closing(current, notice)
            closed = [Closed(handoff.id, how, now, current.opened_at)]
            outcome = await self._turn(Turn(key, handoff.person, state, events, context, incoming, extra=closing, changes=closed))
            await self.store.commit(outcome, now=now)
        self.sender.enqueue(outcome.calls)
        return True

    async def canned_for(self, handoff: Handoff, name: str) -> tuple[str | None, str]:
        """A canned reply in the person's language (and that language)."""
        state = await self.store.load(ConversationKey(self.bot_id, handoff.chat))
        lang = state.lang if state is not None else handoff.lang
        state = state or ConversationState(lang=lang, status="ended")
        context = StepContext(now=self.clock(), first_name="", language=None)
        canned = self.engine.canned(state, name, context)
        if canned is not None and canned.problem is not None:  # the engine logs nothing itself
            log.error("%s: flow problem at %s: %s", self.bot_id, canned.problem.where, canned.problem.detail)
        return (canned.text if canned is not None else None), lang

    async def vanish_for(self, chat: str) -> float | None:
        """For a call to this chat made outside the person's step (a moderator's reply): after
        how many seconds its message vanishes (its `Delivery.vanish`), or None."""
        state = await self.store.load(ConversationKey(self.bot_id, chat))
        return vanish_seconds(state, self.engine.bot.config) or None

    def _answer_soon(self, query_id: str) -> None:
        """Stop the button's spinner; nothing waits for it."""
        answer = asyncio.create_task(self._answer(query_id))
        self._answers.add(answer)
        answer.add_done_callback(self._answers.discard)

    async def _answer(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError:  # the spinner stops by itself; nothing is lost
            pass

    def _apology(self, lang: str | None) -> str:
        return self.translator.translate(lang or self.engine.bot.config.locales[0], BUILTIN["apology"], BUILTIN_CONTEXT)
