"""The embedded default: one SQLite file, in WAL mode, through one aiosqlite connection."""

from __future__ import annotations

import os

from bots.privacy.vault import Vault
from bots.storage.database import SQLiteDatabase
from bots.storage.sql import KEY_CHECK, SQLStore, StoreError

__all__ = ["KEY_CHECK", "SQLiteConversationStore", "StoreError"]


class SQLiteConversationStore(SQLStore):
    """Conversations in a SQLite file.

    WAL with `synchronous=NORMAL`: a committed step survives the process being killed at
    any moment; after a power cut the last few steps may be lost but the file is never
    corrupt. Pass `synchronous="FULL"` to trade speed for power-cut durability too.

    One process runs the bots on a file (others, like `bots forget`, may write now and
    then: `notice_other_writers` drops the cache then), so states this process saved are
    cached.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "NORMAL",
        cache_size: int = 10_000,
        vault: Vault | None = None,
    ) -> None:
        self.sqlite = SQLiteDatabase(path, synchronous=synchronous)
        super().__init__(self.sqlite, vault=vault, cache_size=cache_size)
        self.path = self.sqlite.path
        self.location = str(self.path)
        self.synchronous = synchronous
        self._data_version: int | None = None

    async def _opened_hook(self) -> None:
        self.sqlite.make_private()

    async def notice_other_writers(self) -> bool:
        """Whether another connection changed the file since we last looked (then the cache,
        which assumes we are the only writer, is dropped)."""
        version = await self.sqlite.data_version()
        changed = self._data_version is not None and version != self._data_version
        self._data_version = version
        if changed:
            self._cache.clear()
        return changed
