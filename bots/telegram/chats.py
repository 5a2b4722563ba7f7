"""A bot's updates processed per chat: one at a time and in order within a chat, different
chats at once, each turn under the conversation's lock (on a shared database, against every
worker: whoever holds it processes what the database has waiting for the chat, whoever
recorded it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bots.privacy.pseudonyms import Pseudonyms
from bots.storage import ConversationKey, IncomingUpdate, SQLStore
from bots.storage.outcome import Outcome
from bots.telegram import metrics
from bots.telegram.intake import Unreadable
from bots.telegram.outage import DATABASE, MAX_BACKOFF, is_database_error, until_written

log = logging.getLogger(__name__)

TRIGGER = -1  # the update_id of a queue entry that only says "look at the chat's waiting updates"
HELP_AFTER = 0.25  # an update recorded by another worker and waiting this long is taken up here
MAX_ATTEMPTS = 3  # an update that fails this often is given up (logged), not retried forever


class ChatWorkers:
    """A task for each chat with updates in hand; `process` takes one update (the runner's)."""

    def __init__(
        self,
        bot_id: str,
        store: SQLStore,
        process: Callable[[IncomingUpdate], Awaitable[None]],
        pseudonyms: Pseudonyms,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.bot_id = bot_id
        self.store = store
        self.process = process
        self.pseudonyms = pseudonyms
        self.clock = clock
        self.queues: dict[str, deque[IncomingUpdate]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.processed = 0  # updates done, for /metrics
        self._scanning: asyncio.Task[None] | None = None
        self._scan_again = False

    def dispatch(self, update: IncomingUpdate) -> None:
        """Process `update` in its chat's turn."""
        self._queue(update.chat, update)

    def trigger(self, chat: str) -> None:
        """On a shared database: look at the chat's waiting updates, unless another worker has
        the chat now (it sees them too: every worker is told of every update recorded)."""
        self._queue(chat, IncomingUpdate(self.bot_id, TRIGGER, chat, ""))

    def _queue(self, chat: str, entry: IncomingUpdate) -> None:
        self.queues.setdefault(chat, deque()).append(entry)
        worker = self.workers.get(chat)
        if worker is None or worker.done():
            self.workers[chat] = asyncio.create_task(self._work(chat))

    def on_inbox(self, bot: str) -> None:
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
                self.trigger(chat)

    async def finish(self, timeout: float) -> None:
        """Let the turns in hand end, for `timeout` seconds at most."""
        busy = [w for w in self.workers.values() if not w.done()]
        if busy:
            await asyncio.wait(busy, timeout=timeout)

    async def cancel(self) -> None:
        """Stop what is still running (its updates stay recorded, for the next start)."""
        for worker in self.workers.values():
            worker.cancel()
        await asyncio.gather(*self.workers.values(), return_exceptions=True)

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
        commit = lambda: self.store.commit(Outcome.done(update), now=self.clock())  # noqa: E731
        await (commit() if self.store.shared else until_written(commit, f"{self.bot_id}: skipping an update"))
