"""What the store does together that callers ask for apart: writes waiting at the same time
committed in one transaction (group commit), and states asked for in the same turn of the
event loop read in one query."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bots.storage.base import ConversationKey
from bots.storage.database import Database, Statement

#: the longest a group commit waits for more writes while they keep coming (`GroupCommit._gather`)
GATHER_LIMIT = 0.005


@dataclass
class _Write:
    statements: list[Statement]
    done: asyncio.Future[None]
    alone: bool  # must not be merged with other writes (its order against them matters)


class GroupCommit:
    """Writes waiting now share a transaction; each caller returns once its own is committed.
    `parallel`: transactions in progress at once; `gather`: a transaction starts once a turn
    of the event loop adds no write (see `_gather`)."""

    def __init__(self, database: Database, *, parallel: int, gather: bool) -> None:
        self.database = database
        self.parallel = parallel
        self.gather = gather
        self._pending: list[_Write] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self._flushing = 0  # flushers still taking writes (a finished task leaves the set later)

    async def write(self, statements: list[Statement], *, alone: bool = False) -> None:
        """Commit `statements` (with other writes unless `alone`: its order against them matters)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Write(statements, done, alone))
        if self._flushing < self.parallel:
            self._flushing += 1  # counted here and uncounted by the flusher as it stops, with no await between
            flusher = asyncio.create_task(self._flush())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        await done

    async def _flush(self) -> None:
        try:
            await self._flush_pending()
        finally:
            self._flushing -= 1

    async def _gather(self) -> None:
        """Wait until a turn of the event loop adds no write: whatever can be stepped now has
        been, and its write joins this transaction rather than the next one. A turn is one
        pass over what is ready: a write alone waits for one (microseconds), and writes that
        keep coming wait GATHER_LIMIT seconds at most."""
        loop = asyncio.get_running_loop()
        until = loop.time() + GATHER_LIMIT
        count = -1
        while count != len(self._pending) and loop.time() < until:
            count = len(self._pending)
            await asyncio.sleep(0)

    async def _flush_pending(self) -> None:
        while self._pending:
            if self.gather:
                await self._gather()
            batch = [self._pending.pop(0)]
            if not batch[0].alone:
                while self._pending and not self._pending[0].alone:
                    batch.append(self._pending.pop(0))
            # statements of one kind run together, in the order they came
            grouped: dict[str, list[tuple[Any, ...]]] = {}
            for write in batch:
                for sql, params in write.statements:
                    grouped.setdefault(sql, []).append(params)
            try:
                await self.database.transaction(grouped)
            except Exception as err:  # every waiting write learns that it failed
                for write in batch:
                    if not write.done.done():
                        write.done.set_exception(err)
                continue
            for write in batch:
                if not write.done.done():
                    write.done.set_result(None)

    async def settled(self) -> None:
        """Wait for the transactions in progress (the store is closing)."""
        if self._flushers:
            await asyncio.gather(*self._flushers, return_exceptions=True)


class BatchedReads:
    """A chat's sealed state, read in one query with the others asked for in the same turn of
    the event loop (a read of committed rows, as a query of its own would be): on PostgreSQL,
    where nothing is cached, one round trip for many chats."""

    def __init__(self, database: Database) -> None:
        self.database = database
        #: states asked for in this turn of the event loop, read together
        self._reading: dict[ConversationKey, list[asyncio.Future[Any]]] | None = None
        self._readers: set[asyncio.Task[None]] = set()

    async def read(self, key: ConversationKey) -> Any:
        """The chat's sealed state, or None."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._reading is None:
            self._reading = {}
            reader = asyncio.create_task(self._read_states(self._reading))
            self._readers.add(reader)
            reader.add_done_callback(self._readers.discard)
        self._reading.setdefault(key, []).append(future)
        return await future

    async def _read_states(self, asked: dict[ConversationKey, list[asyncio.Future[Any]]]) -> None:
        try:
            await asyncio.sleep(0)  # the turn in which they were asked for ends
            if self._reading is asked:
                self._reading = None  # what is asked for from now on is read by the next query
            by_bot: dict[str, list[str]] = {}
            for key in asked:
                by_bot.setdefault(key.bot, []).append(key.chat)
            for bot, chats in by_bot.items():
                try:
                    found = await self.database.states(bot, chats)
                except Exception as err:  # noqa: BLE001 - every caller learns of it
                    results: dict[str, Any] = {}
                    failure: Exception | None = err
                else:
                    results, failure = found, None
                for chat in chats:
                    for future in asked[ConversationKey(bot, chat)]:
                        if future.done():  # its caller was cancelled
                            continue
                        if failure is not None:
                            future.set_exception(failure)
                        else:
                            future.set_result(results.get(chat))
        except BaseException:  # cancelled (the loop is closing): no caller waits forever
            for futures in asked.values():
                for future in futures:
                    future.cancel()
            raise
        finally:
            if self._reading is asked:
                self._reading = None
