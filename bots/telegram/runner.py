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
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import Bot, BotCommand, Update
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
from bots.telegram.desk import Desk, handoff_counts
from bots.telegram.desk_commands import ModeratorCommands
from bots.telegram.flood import FloodGuard, Verdict
from bots.telegram.intake import ForModerators, Membership, OutsidePrivate, PersonInput, classify
from bots.telegram.lifecycle import Service
from bots.telegram.outage import DATABASE, MAX_BACKOFF, is_database_error, until_written
from bots.telegram.pacing import Pacer
from bots.telegram.render import Pressed, render
from bots.telegram.sender import Sender

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
COMMANDS = ("start", "back", "help", "language", "subscribe", "unsubscribe", "forget")
HANDOFF_COMMANDS = COMMANDS + ("end",)
STOP_GRACE = 10.0
SEND_GRACE = 2.0
TRIGGER = -1  # the update_id of a queue entry that only says "look at the chat's waiting updates"
SWEEP_AGE = 3.0  # an update waiting this long on a shared database is anyone's to process
HELP_AFTER = 0.25  # an update recorded by another worker and waiting this long is taken up here
MAX_ATTEMPTS = 3  # an update that fails this often is given up (logged), not retried forever


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Unreadable(Exception):
    """An update the bot cannot read (a shape it does not know, a field of the wrong type):
    trying again reads the same bytes, so it is skipped at once. The message is its type."""


def read_update(payload: dict[str, object], bot: Bot) -> Update:
    """PTB's `Update` of a stored update, or `Unreadable`. PTB does not check the types of
    what it keeps as is: the text and the button's data reach the engine, so they are checked."""
    kind = next((k for k in payload if k != "update_id"), "empty")
    try:
        update = Update.de_json(payload, bot)
    except Exception:  # noqa: BLE001 - TypeError, KeyError, AttributeError, ValueError: all a bad shape
        raise Unreadable(kind) from None
    message, query = update.message, update.callback_query
    if (message is not None and not isinstance(message.text, (str, type(None)))) or (
        query is not None and not isinstance(query.data, (str, type(None)))
    ):
        raise Unreadable(kind)
    return update


def chat_of(payload: dict[str, object]) -> str:
    """The chat an update belongs to (for ordering), straight from its JSON."""
    for key in ("message", "edited_message", "my_chat_member", "chat_member"):
        part = payload.get(key)
        if isinstance(part, dict) and isinstance(part.get("chat"), dict):
            return str(part["chat"].get("id", ""))
    query = payload.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id", ""))
        sender = query.get("from")
        if isinstance(sender, dict):
            return str(sender.get("id", ""))
    return ""


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
        self.queues: dict[str, deque[IncomingUpdate]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self._scanning: asyncio.Task[None] | None = None
        self._scan_again = False
        self._answers: set[asyncio.Task[None]] = set()
        self._registered: dict[str, list[BotCommand]] = {}  # the command lists Telegram was given
        self._registering: asyncio.Task[None] | None = None  # after a reload changed them
        self.processed = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), register commands, and resume what a crash left."""
        await self.bot.initialize()
        await self.register_commands()
        await self.desk.start()
        for update in await self.store.unprocessed_updates(self.bot_id):
            self._dispatch(update)
        if self.store.shared:
            self.store.inbox_listener(self._on_inbox)
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
                self._trigger(chat)

    def _on_inbox(self, bot: str) -> None:
        """Another worker recorded updates of a bot: any worker may process them."""
        if bot != self.bot_id:
            return
        if self._scanning is not None and not self._scanning.done():
            self._scan_again = True
            return
        self._scanning = asyncio.create_task(self._scan())

    async def _scan(self) -> None:
        """Take up the chats whose updates have waited a moment: the worker that recorded an
        update usually processes it at once (a chat's turns then stay on one worker, and its
        messages need not wait for another worker's); the others help when it lags."""
        self._scan_again = True
        while self._scan_again:
            self._scan_again = False
            await asyncio.sleep(HELP_AFTER)
            try:
                chats = await self.store.waiting_chats(self.bot_id, received_before=self.clock().timestamp() - HELP_AFTER)
            except Exception as err:  # noqa: BLE001 - the sweep picks them up later
                log.warning("%s: cannot look for waiting updates (%s)", self.bot_id, type(err).__name__)
                return
            for chat in chats:
                self._trigger(chat)

    async def stop(self) -> None:
        """Finish the updates in hand, give the sender a moment, then let go."""
        workers = [w for w in self.workers.values() if not w.done()]
        if workers:
            await asyncio.wait(workers, timeout=STOP_GRACE)
        await self.sender.wait_idle(SEND_GRACE)  # what is not sent by then is sent at the next start
        await self.sender.stop()
        await asyncio.gather(*self._answers, return_exceptions=True)
        if self._registering is not None:
            await asyncio.gather(self._registering, return_exceptions=True)
        for worker in self.workers.values():
            worker.cancel()
        await asyncio.gather(*self.workers.values(), return_exceptions=True)
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
        if self.command_lists() != self._registered:  # locales:, exit_command:, their translations
            self._registering = asyncio.create_task(self._register_again(self._registering))
        for key in ("token_env", "moderators_chat_env", "retention_days"):  # read once, at the start (app.py)
            if getattr(before, key) != getattr(config, key):
                log.warning("%s: %s changed in bot.yaml: it takes effect when the bot is started again", self.bot_id, key)

    async def _register_again(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:  # one registration at a time, in the order of the changes
            await asyncio.gather(previous, return_exceptions=True)
        await self.register_commands()

    def command_lists(self) -> dict[str, list[BotCommand]]:
        """The commands in Telegram's menu, in each language of the bot (the first language's
        also for everyone else)."""
        config = self.engine.bot.config
        names = (HANDOFF_COMMANDS if self.desk.available else COMMANDS) + (config.exit_command,)
        return {
            lang: [
                BotCommand(
                    name,
                    self.translator.translate(
                        lang, BUILTIN["command_exit" if name == config.exit_command else f"command_{name}"], BUILTIN_CONTEXT
                    ),
                )
                for name in names
            ]
            for lang in config.locales
        }

    async def register_commands(self) -> None:
        """Give Telegram the bot's commands (`command_lists`); a language no longer offered loses its own."""
        lists = self.command_lists()
        gone = [lang for lang in self._registered if lang not in lists]
        self._registered = lists
        for lang in gone:
            try:
                await self.bot.delete_my_commands(language_code=lang)
            except TelegramError as err:
                log.warning("%s: could not remove the commands for %s: %s", self.bot_id, lang, type(err).__name__)
        for index, (lang, commands) in enumerate(lists.items()):
            try:
                await self.bot.set_my_commands(commands, language_code=lang)
                if index == 0:
                    await self.bot.set_my_commands(commands)
            except TelegramError as err:
                log.warning("%s: could not register commands for %s: %s", self.bot_id, lang, type(err).__name__)

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
                self._dispatch(update)
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
        await self.store.commit(Outcome(update=update, calls=calls), now=self.clock())
        self.sender.enqueue(calls)

    def _dispatch(self, update: IncomingUpdate) -> None:
        self.queues.setdefault(update.chat, deque()).append(update)
        worker = self.workers.get(update.chat)
        if worker is None or worker.done():
            self.workers[update.chat] = asyncio.create_task(self._work(update.chat))

    def _trigger(self, chat: str) -> None:
        """On a shared database: look at the chat's waiting updates, unless another worker has
        the chat now (it sees them too: every worker is told of every update recorded)."""
        self.queues.setdefault(chat, deque()).append(IncomingUpdate(self.bot_id, TRIGGER, chat, ""))
        worker = self.workers.get(chat)
        if worker is None or worker.done():
            self.workers[chat] = asyncio.create_task(self._work(chat))

    async def _work(self, chat: str) -> None:
        """Process a chat's updates one at a time, in order, holding the conversation's lock
        (on a shared database, against every worker: whoever holds it processes what the
        database has waiting for the chat, whoever recorded it)."""
        queue = self.queues[chat]
        key = ConversationKey(self.bot_id, chat)
        while queue:
            if self.store.shared:
                # when another worker has the chat, it takes what waits, in order: every worker
                # is told of every update recorded, the one holding the chat too, and it looks
                # again once its turn is over (the sweep takes up anything left)
                queue.clear()
                try:
                    async with self.store.try_lock(key) as held:
                        if not held:
                            continue
                        for update in await self.store.unprocessed_updates(self.bot_id, chat=chat):
                            await self._attempt(update)
                except Exception as err:  # noqa: BLE001 - the database: what waits is recorded, the sweep takes it up
                    log.warning(
                        "%s: cannot take %s's turn (%s): their updates wait in the database",
                        self.bot_id,
                        self.pseudonyms.of(chat),
                        type(err).__name__,
                    )
                    break
            else:
                async with self.store.lock(key):
                    await self._attempt(queue[0])
                queue.popleft()
        self.queues.pop(chat, None)
        self.workers.pop(chat, None)

    async def _attempt(self, update: IncomingUpdate) -> None:
        """Process one update, trying again a few times if it fails; then give it up. The
        database failing is not the update's fault: on SQLite the turn waits for it (with
        back-off, for as long as it takes); on a shared one it is left for the sweep."""
        failures = 0
        backoff = 0.5
        while True:
            try:
                await self.process(update)
                break
            except Unreadable as err:  # the same bytes again would fail the same way
                metrics.update_failed(self.bot_id)
                log.warning("%s: update %d (%s) cannot be read: skipped", self.bot_id, update.update_id, err)
                await self._give_up(update)
                break
            except Exception as err:  # one bad update must not stop the chat for good
                if is_database_error(err):
                    if self.store.shared:
                        raise
                    DATABASE.failed(err, f"{self.bot_id}: {self.pseudonyms.of(update.chat)}'s turn")
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                failures += 1
                metrics.update_failed(self.bot_id)
                log.error(
                    "%s: update %d for %s failed (%s, attempt %d)",
                    self.bot_id,
                    update.update_id,
                    self.pseudonyms.of(update.chat),
                    type(err).__name__,
                    failures,
                )
                if failures < MAX_ATTEMPTS:
                    await asyncio.sleep(0.5 * failures)
                    continue
                await self._give_up(update)
                break
        self.processed += 1

    async def _give_up(self, update: IncomingUpdate) -> None:
        """Mark an update done without a step (on SQLite, once the database takes it)."""
        commit = lambda: self.store.commit(Outcome(update=update), now=self.clock())  # noqa: E731
        await (commit() if self.store.shared else until_written(commit, f"{self.bot_id}: skipping an update"))

    # --- one update: the pipeline -----------------------------------------------------------

    @metrics.timed_step
    async def process(self, incoming: IncomingUpdate) -> None:
        """One update, in stages: read it, classify it (`bots.telegram.intake`); for a
        person's input load the conversation and take the turn (`_turn`: the engine step,
        then the outcome, collected without I/O); commit the outcome in one transaction;
        hand its calls to the sender. The caller holds the conversation's lock."""
        update = read_update(json.loads(incoming.payload), self.bot)
        now = self.clock()
        moderators = self.moderators_chat if self.desk.available else ""
        turn = classify(update, moderators_chat=moderators, text_event=self.engine.event_for_text)
        if isinstance(turn, ForModerators):
            await self.moderation.on_update(incoming, update)
            return
        if isinstance(turn, PersonInput):
            outcome = await self._person(turn, incoming, now)
        elif isinstance(turn, Membership):
            outcome = await self._membership(turn, incoming, now)
        elif isinstance(turn, OutsidePrivate) and turn.leave and turn.chat_id is not None:
            log.info("%s: added to a group that is not its moderators' chat: leaving it", self.bot_id)
            leave = BotApiCall(self.chat_key(turn.chat_id), "leaveChat", {"chat_id": turn.chat_id})
            outcome = Outcome.done(incoming, self.to_calls([leave]))
        else:  # a group or channel that is not the moderators' (people are served in private chats only), an edit
            outcome = Outcome.done(incoming)
        await self.store.commit(outcome, now=now)
        self.sender.enqueue(outcome.calls)
        if isinstance(turn, PersonInput) and turn.query_id is not None:
            self._answer_soon(turn.query_id)

    async def _membership(self, turn: Membership, incoming: IncomingUpdate, now: dt.datetime) -> Outcome:
        """The person blocked the bot (their calls are dropped, their handoff closed) or unblocked it."""
        person = self.chat_key(turn.chat_id)
        await self.store.set_blocked(self.bot_id, person, turn.blocked, now=now)
        if turn.blocked:
            await self.store.drop_calls(self.bot_id, person)
            await self.desk.person_gone(person)
        return Outcome.done(incoming)

    async def _person(self, turn: PersonInput, incoming: IncomingUpdate, now: dt.datetime) -> Outcome:
        """Load the person's conversation and take their turn."""
        key = ConversationKey(self.bot_id, self.chat_key(turn.chat_id))
        state = await self.store.load(key)
        events: list[ev.Event] = [turn.event]
        if (
            state is not None
            and state.status == "handoff"
            and not isinstance(turn.event, ev.Start)
            and await self.store.open_handoff_of(self.bot_id, key.chat) is None
        ):  # the handoff was closed without the conversation knowing (blocked, forgotten)
            events.insert(0, ev.HandoffClosed(how="closed"))
        context = StepContext(now=now, first_name=turn.first_name, language=turn.language)
        return await self._turn(Turn(key, turn.chat_id, state, events, context, incoming, turn.message_id, turn.pressed))

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
