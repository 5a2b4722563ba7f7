"""The storage contract: every backend must pass these, against a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bots.engine.state import ConversationState, Frame, Snapshot
from bots.storage import ConversationKey, ConversationStore, SQLiteConversationStore, SQLStore, store_at
from bots.storage.outcome import Outcome
from bots.storage.sql_counters import ADD

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


async def test_what_load_gives_is_the_callers_own(store: ConversationStore) -> None:
    """Changing a loaded state, or the saved one after saving, changes nothing kept (SQLite keeps
    states parsed in memory: it hands out copies)."""
    state = a_state()
    await store.save(KEY, state, now=NOW)
    state.vars["cards"] = 99
    state.stack.append(Frame(flow="mara/main", node="later"))
    first = await store.load(KEY)
    assert first is not None and first == a_state()
    first.vars["needs"].append("work")
    first.scratch["ticked"].append(5)
    first.history.append(Snapshot(stack=[], vars={}))
    first.sensitive.clear()
    assert await store.load(KEY) == a_state()


def stepped(state: ConversationState, node: str) -> ConversationState:
    """What a step of the engine does to the history: a copy, one snapshot more, the oldest dropped."""
    after = state.copy_deep()
    after.history.append(Snapshot(stack=list(after.stack), vars=dict(after.vars)))
    del after.history[: max(0, len(after.history) - 3)]
    after.stack[-1] = Frame(flow="mara/human", node=node)
    after.vars["note"] = f"at {node}"
    after.step += 1
    return after


async def test_states_read_back_from_the_database_equal_those_this_process_kept(location: str) -> None:
    """States saved step after step, their snapshots shared from one to the next (the store writes
    a snapshot's JSON once), read again by a fresh store, which has nothing in memory."""
    seen: list[ConversationState] = []
    async with store_at(location) as first:
        state = a_state()
        for node in ["a", "b", "c", "d", "e"]:
            state = stepped(state, node)
            await first.save(KEY, state, now=NOW)
            loaded = await first.load(KEY)
            assert loaded is not None and loaded == state
            state = loaded
        twice = state.copy_deep()
        twice.history.append(twice.history[0])  # one snapshot twice in a history
        await first.commit(Outcome(key=KEY, state=twice), now=NOW)
        seen.append(twice)
        assert await first.load(KEY) == twice
    async with store_at(location) as second:
        read = await second.load(KEY)
        assert read == seen[0]
        assert read is not None and [s.vars["note"] for s in read.history[:3]] == ["at b", "at c", "at d"]


def test_json_reusing_snapshots_reads_back_as_the_plain_json() -> None:
    before = stepped(stepped(a_state(), "x"), "y")
    plain, texts = before.to_json_reusing({})
    assert ConversationState.from_json(plain) == ConversationState.from_json(before.to_json()) == before
    after = stepped(before, "z")
    again, _ = after.to_json_reusing(texts)
    assert ConversationState.from_json(again) == after
    assert ConversationState.from_json(a_state().to_json_reusing({})[0]) == a_state()  # no history at all


async def test_a_transaction_of_many_rows_does_what_each_row_would(store: SQLStore) -> None:
    """Many rows of one INSERT in one transaction (SQLite sends them as statements of several
    rows): every row arrives, in order, and a row meeting an earlier one of the same
    transaction updates it as it would one committed before."""
    rows = [("mara", "2026-11-23", "visits", f"k{i % 7}", 1.0) for i in range(150)]
    await store.database.transaction({ADD: rows})
    assert await store.counters("mara") == {("2026-11-23", "visits", f"k{k}"): float(len(range(k, 150, 7))) for k in range(7)}
    upsert = "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    await store.database.transaction({upsert: [("bench", str(i).encode()) for i in range(70)]})
    assert await store.meta("bench") == b"69"  # the last row of the transaction wins


async def test_writes_made_in_successive_turns_of_the_loop_share_one_sqlite_commit(tmp_path: Path) -> None:
    """Chats stepped one after another (here: saving after 0 to 3 turns of the event loop) join
    one transaction: a commit starts once a turn brings no new write."""
    async with SQLiteConversationStore(tmp_path / "bots.db") as store:
        commits: list[int] = []
        real = store.database.transaction

        async def counted(grouped: dict[str, list[tuple[object, ...]]]) -> None:
            commits.append(sum(len(rows) for rows in grouped.values()))
            await real(grouped)

        store.database.transaction = counted  # type: ignore[method-assign]

        async def chat(index: int) -> None:
            for _ in range(index % 4):
                await asyncio.sleep(0)
            await store.save(ConversationKey("mara", f"chat-{index}"), a_state(index), now=NOW)

        await asyncio.gather(*(chat(i) for i in range(20)))
        assert commits == [20]
        assert await store.count("mara") == 20
