"""Where conversations live: a small async interface that every backend implements."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import datetime as dt
import weakref
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from bots.engine.state import ConversationState


@dataclass(frozen=True, order=True)
class ConversationKey:
    """One person's conversation with one bot. `chat` is opaque to the store."""

    bot: str
    chat: str


class ConversationStore(abc.ABC):
    """Durable conversation state. Every `save` is durable when it returns.

    Callers take `lock(key)` before `load` and hold it until `save`, so that two updates
    of one chat never interleave; different chats proceed concurrently.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[ConversationKey, asyncio.Lock] = weakref.WeakValueDictionary()

    def _local_lock(self, key: ConversationKey) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    def lock(self, key: ConversationKey) -> contextlib.AbstractAsyncContextManager[Any]:
        """Hold the conversation while it is loaded, stepped and saved (`async with`). Among
        several workers sharing a database, it is held against all of them."""
        return self._local_lock(key)

    @abc.abstractmethod
    async def initialize(self) -> None:
        """Open connections and create the schema if needed."""

    @abc.abstractmethod
    async def shutdown(self) -> None:
        """Close connections; pending writes are finished first."""

    @abc.abstractmethod
    async def load(self, key: ConversationKey) -> ConversationState | None:
        """The saved state, or None for a conversation never seen (or forgotten)."""

    @abc.abstractmethod
    async def save(self, key: ConversationKey, state: ConversationState, *, now: dt.datetime) -> None:
        """Replace the conversation's state, durably."""

    @abc.abstractmethod
    async def delete(self, key: ConversationKey) -> bool:
        """Forget the conversation; True if there was one."""

    @abc.abstractmethod
    async def purge_idle(self, bot: str, *, before: dt.datetime) -> int:
        """Forget the bot's conversations not saved since `before`; how many were removed."""

    @abc.abstractmethod
    async def count(self, bot: str) -> int:
        """How many conversations the bot has."""

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.shutdown()
