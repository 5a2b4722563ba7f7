"""The storage contract: every backend must pass these, against a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bots.engine.state import ConversationState, Frame
from bots.storage import ConversationKey, ConversationStore, SQLiteConversationStore, store_at

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


def a_state(step: int = 1) -> ConversationState:
    return ConversationState(
        lang="be",
        stack=[Frame(flow="mara/main", node="menu"), Frame(flow="mara/human", node="ask")],
        vars={"needs": ["legal", "housing"], "cards": 3, "when": "2026-12-01", "note": "Ёжык & <i>"},
        status="waiting",
        step=step,
        scratch={"ticked": [0, 2]},
        sensitive={"note": "mara/human"},
    )


KEY = ConversationKey("mara", "chat-1")


async def test_unknown_conversation_loads_as_none(store: ConversationStore) -> None:
    assert await store.load(KEY) is None


async def test_saved_state_loads_back_equal(store: ConversationStore) -> None:
    state = a_state()
    await store.save(KEY, state, now=NOW)
    assert await store.load(KEY) == state


async def test_save_replaces_and_keys_are_separate(store: ConversationStore) -> None:
    await store.save(KEY, a_state(1), now=NOW)
    await store.save(KEY, a_state(2), now=NOW)
    other = ConversationKey("kotos", "chat-1")
    await store.save(other, a_state(7), now=NOW)
    loaded = await store.load(KEY)
    assert loaded is not None and loaded.step == 2
    loaded_other = await store.load(other)
    assert loaded_other is not None and loaded_other.step == 7
    assert await store.count("mara") == 1


async def test_delete_forgets(store: ConversationStore) -> None:
    await store.save(KEY, a_state(), now=NOW)
    assert await store.delete(KEY) is True
    assert await store.load(KEY) is None
    assert await store.delete(KEY) is False


async def test_purge_idle_removes_only_old_conversations_of_that_bot(store: ConversationStore) -> None:
    old = ConversationKey("mara", "old")
    other_bot = ConversationKey("kotos", "old")
    await store.save(old, a_state(), now=NOW - dt.timedelta(days=40))
    await store.save(other_bot, a_state(), now=NOW - dt.timedelta(days=40))
    await store.save(KEY, a_state(), now=NOW - dt.timedelta(days=1))
    removed = await store.purge_idle("mara", before=NOW - dt.timedelta(days=30))
    assert removed == 1
    assert await store.load(old) is None
    assert await store.load(KEY) is not None
    assert await store.load(other_bot) is not None


async def test_lock_serialises_one_conversation_but_not_others(store: ConversationStore) -> None:
    order: list[str] = []
    c_inside = asyncio.Event()

    async def hold(key: ConversationKey, name: str, *, until: asyncio.Event | None = None) -> None:
        async with store.lock(key):
            order.append(f"{name}+")
            if name == "c":
                c_inside.set()
            if until is not None:  # a holds its chat's lock until c is inside another's
                await asyncio.wait_for(until.wait(), 10)
            order.append(f"{name}-")

    other = ConversationKey("mara", "chat-2")
    await asyncio.gather(hold(KEY, "a", until=c_inside), hold(KEY, "b"), hold(other, "c"))
    assert order.index("a-") < order.index("b+")  # same chat: one after the other
    assert order.index("c+") < order.index("a-")  # another chat did not wait


async def test_state_survives_closing_and_reopening(location: str) -> None:
    async with store_at(location) as first:
        await first.save(KEY, a_state(5), now=NOW)
    async with store_at(location) as second:
        loaded = await second.load(KEY)
        assert loaded is not None and loaded.step == 5


async def test_sqlite_file_is_in_wal_mode_and_private(tmp_path: Path) -> None:
    path = tmp_path / "db" / "bots.db"
    async with SQLiteConversationStore(path) as store:
        await store.save(KEY, a_state(), now=NOW)
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert path.stat().st_mode & 0o077 == 0


async def test_using_a_store_before_initialize_says_so(tmp_path: Path) -> None:
    store = SQLiteConversationStore(tmp_path / "x.db")
    with pytest.raises(RuntimeError, match="not initialized"):
        await store.load(KEY)
