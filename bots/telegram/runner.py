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
import uuid
from collections import deque
from collections.abc import Callable

from telegram import Bot, BotCommand, Message, Update
from telegram.error import TelegramError

from bots.engine import Engine, StepContext, event_from_text
from bots.engine import events as ev
from bots.engine.i18n import Translator
from bots.engine.outputs import Problem
from bots.engine.project import Project
from bots.engine.runtime import BUILTIN_CONTEXT
from bots.engine.texts import BUILTIN
from bots.storage import (
    ConversationKey,
    IncomingUpdate,
    OutgoingCall,
    SQLiteConversationStore,
)
from bots.telegram.pacing import Pacer
from bots.telegram.pseudonym import Pseudonyms
from bots.telegram.render import Pressed, render
from bots.telegram.sender import Sender

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
COMMANDS = ("start", "back", "help", "language")
STOP_GRACE = 10.0
SEND_GRACE = 2.0
MAX_ATTEMPTS = 3  # an update that fails this often is given up (logged), not retried forever


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


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


class BotRunner:
    """Runs one bot of the project: call `start()`, feed it with `receive()`, then `stop()`."""

    def __init__(
        self,
        project: Project,
        bot_id: str,
        bot: Bot,
        store: SQLiteConversationStore,
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
        self.sender = Sender(
            bot_id, bot, store, pacer or Pacer(), self.pseudonyms, project.root / "knowledge", apology=self._apology
        )
        env = self.engine.bot.config.moderators_chat_env
        #: the moderators' group, which the bot stays in (issue 5 uses it)
        self.moderators_chat = os.environ.get(env, "").strip() if env else ""
        self.queues: dict[str, deque[IncomingUpdate]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self._answers: set[asyncio.Task[None]] = set()
        self.processed = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), register commands, and resume what a crash left."""
        await self.bot.initialize()
        await self.register_commands()
        for update in await self.store.unprocessed_updates(self.bot_id):
            self._dispatch(update)
        pending = await self.store.pending_calls(self.bot_id)
        if pending:
            log.info("%s: resuming %d unsent message(s)", self.bot_id, len(pending))
            self.sender.enqueue(pending)

    async def stop(self) -> None:
        """Finish the updates in hand, give the sender a moment, then let go."""
        workers = [w for w in self.workers.values() if not w.done()]
        if workers:
            await asyncio.wait(workers, timeout=STOP_GRACE)
        await self.sender.wait_idle(SEND_GRACE)  # what is not sent by then is sent at the next start
        await self.sender.stop()
        await asyncio.gather(*self._answers, return_exceptions=True)
        for worker in self.workers.values():
            worker.cancel()
        await asyncio.gather(*self.workers.values(), return_exceptions=True)
        await self.bot.shutdown()

    async def register_commands(self) -> None:
        config = self.engine.bot.config
        for index, lang in enumerate(config.locales):
            commands = [
                BotCommand(name, self.translator.translate(lang, BUILTIN[f"command_{name}"], BUILTIN_CONTEXT))
                for name in COMMANDS
            ]
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
            IncomingUpdate(self.bot_id, int(u["update_id"]), chat_of(u), json.dumps(u, separators=(",", ":")))  # type: ignore[call-overload]
            for u in updates
        ]
        fresh = await self.store.record_updates(incoming, now=self.clock())
        for update in fresh:
            self._dispatch(update)
        return max((u.update_id for u in incoming), default=-1)

    def _dispatch(self, update: IncomingUpdate) -> None:
        self.queues.setdefault(update.chat, deque()).append(update)
        worker = self.workers.get(update.chat)
        if worker is None or worker.done():
            self.workers[update.chat] = asyncio.create_task(self._work(update.chat))

    async def _work(self, chat: str) -> None:
        queue = self.queues[chat]
        failures = 0
        while queue:
            update = queue[0]
            try:
                await self.process(update)
            except Exception as err:  # one bad update must not stop the chat for good
                failures += 1
                log.error(
                    "%s: update %d for %s failed (%s, attempt %d)",
                    self.bot_id, update.update_id, self.pseudonyms.of(chat), type(err).__name__, failures,
                )
                if failures < MAX_ATTEMPTS:
                    await asyncio.sleep(0.5 * failures)
                    continue
                await self.store.commit_step(None, None, update=update, calls=[], now=self.clock())
            failures = 0
            queue.popleft()
            self.processed += 1
        self.queues.pop(chat, None)
        self.workers.pop(chat, None)

    # --- one update ------------------------------------------------------------------------

    async def process(self, incoming: IncomingUpdate) -> None:
        update = Update.de_json(json.loads(incoming.payload), self.bot)
        chat = update.effective_chat
        now = self.clock()
        if chat is None or chat.type != "private":
            # the bot serves people in private chats only; a group it was added to is left
            calls = []
            if chat is not None and self._added_to_foreign_group(update):
                log.info("%s: added to a group that is not its moderators' chat: leaving it", self.bot_id)
                calls = [OutgoingCall(uuid.uuid4().hex, self.bot_id, str(chat.id), 0, "leaveChat", {"chat_id": chat.id})]
            await self.store.commit_step(None, None, update=incoming, calls=calls, now=now)
            self.sender.enqueue(calls)
            return
        if update.my_chat_member is not None:
            blocked = update.my_chat_member.new_chat_member.status in ("kicked", "left")
            await self.store.set_blocked(self.bot_id, str(chat.id), blocked, now=now)
            if blocked:
                await self.store.drop_calls(self.bot_id, str(chat.id))
            await self.store.commit_step(None, None, update=incoming, calls=[], now=now)
            return
        event, pressed = self._event(update)
        if event is None:
            await self.store.commit_step(None, None, update=incoming, calls=[], now=now)
            return
        user = update.effective_user
        key = ConversationKey(self.bot_id, str(chat.id))
        async with self.store.lock(key):
            state = await self.store.load(key)
            context = StepContext(
                now=now, first_name=user.first_name if user else "", language=user.language_code if user else None
            )
            result = self.engine.step(state, event, context)
            for output in result.outputs:
                if isinstance(output, Problem):
                    log.error("%s: flow problem at %s: %s", self.bot_id, output.where, output.detail)
            calls = [
                OutgoingCall(uuid.uuid4().hex, self.bot_id, str(chat.id), index, call.method, {**call.params, "_lang": result.state.lang})
                for index, call in enumerate(render(chat.id, result.outputs, pressed))
            ]
            await self.store.commit_step(key, result.state, update=incoming, calls=calls, now=now)
        self.sender.enqueue(calls)
        if update.callback_query is not None:  # stops the button's spinner; nothing waits for it
            answer = asyncio.create_task(self._answer(update.callback_query.id))
            self._answers.add(answer)
            answer.add_done_callback(self._answers.discard)

    def _added_to_foreign_group(self, update: Update) -> bool:
        member = update.my_chat_member
        if member is None or member.new_chat_member.status not in ("member", "administrator", "restricted"):
            return False
        return str(member.chat.id) != self.moderators_chat

    def _event(self, update: Update) -> tuple[ev.Event | None, Pressed | None]:
        if update.callback_query is not None:
            query = update.callback_query
            pressed = None
            if isinstance(query.message, Message) and query.message.text:
                pressed = Pressed(query.message.message_id, query.message.text_html)
            return ev.Press(query.data or ""), pressed
        message = update.message
        if message is None:
            return None, None
        if message.text is not None:
            return event_from_text(message.text), None
        kind = next(
            (k for k in ("sticker", "photo", "document", "voice", "video", "audio", "location", "contact") if getattr(message, k)),
            "other",
        )
        return ev.Unsupported(kind), None

    async def _answer(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError:  # the spinner stops by itself; nothing is lost
            pass

    def _apology(self, lang: str | None) -> str:
        return self.translator.translate(lang or self.engine.bot.config.locales[0], BUILTIN["apology"], BUILTIN_CONTEXT)
