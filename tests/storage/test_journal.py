"""The delivery journal's contract, on every backend that implements it."""

from __future__ import annotations

import datetime as dt

import pytest

from bots.engine.state import ConversationState
from bots.storage import (
    ConversationKey,
    IncomingUpdate,
    OutgoingCall,
    SQLStore,
    store_at,
)
from bots.storage.outcome import Outcome

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def journal(store: SQLStore) -> SQLStore:
    """The store of `tests/storage/conftest.py`: each test runs on SQLite and PostgreSQL."""
    return store


def update(n: int, chat: str = "c1") -> IncomingUpdate:
    return IncomingUpdate("mara", n, chat, f'{{"update_id": {n}}}')


def call(n: int, chat: str = "c1") -> OutgoingCall:
    return OutgoingCall(f"call-{chat}-{n}", "mara", chat, n, "sendMessage", {"chat_id": 1, "text": f"t{n}"})


async def test_a_redelivered_update_is_recorded_once(journal: SQLStore) -> None:
    assert await journal.record_updates([update(1), update(2)], now=NOW) == [update(1), update(2)]
    assert await journal.record_updates([update(2), update(3)], now=NOW) == [update(3)]
    assert await journal.unprocessed_updates("mara") == [update(1), update(2), update(3)]


async def test_a_step_commits_state_update_and_calls_together(journal: SQLStore) -> None:
    await journal.record_updates([update(1)], now=NOW)
    key = ConversationKey("mara", "c1")
    state = ConversationState(lang="en", vars={"x": 1})
    await journal.commit(Outcome(key=key, state=state, update=update(1), calls=[call(0), call(1)]), now=NOW)
    assert await journal.unprocessed_updates("mara") == []
    assert await journal.load(key) == state
    assert await journal.pending_calls("mara") == [call(0), call(1)]
    await journal.call_done(call(0))
    assert await journal.pending_calls("mara") == [call(1)]
    # processed updates are still known, so a late redelivery is dropped
    assert await journal.record_updates([update(1)], now=NOW) == []


async def test_everything_survives_a_restart(location: str) -> None:
    async with store_at(location) as first:
        await first.record_updates([update(1), update(2, "c2")], now=NOW)
        await first.commit(Outcome(update=update(1), calls=[call(0)]), now=NOW)
    async with store_at(location) as second:
        assert await second.unprocessed_updates("mara") == [update(2, "c2")]
        assert await second.pending_calls("mara") == [call(0)]


async def test_blocked_chats_and_dropped_calls(journal: SQLStore) -> None:
    await journal.commit(Outcome(calls=[call(0), call(1), call(0, "c2")]), now=NOW)
    await journal.set_blocked("mara", "c1", True, now=NOW)
    assert await journal.is_blocked("mara", "c1")
    assert await journal.drop_calls("mara", "c1") == 2
    assert await journal.pending_calls("mara") == [call(0, "c2")]
    await journal.set_blocked("mara", "c1", False, now=NOW)
    assert not await journal.is_blocked("mara", "c1")


async def test_file_ids_are_remembered_per_content(journal: SQLStore) -> None:
    await journal.remember_file_id("mara", "guide.md", "abc", "FILE1")
    assert await journal.file_id("mara", "guide.md", "abc") == "FILE1"
    assert await journal.file_id("mara", "guide.md", "changed") is None


async def test_purge_forgets_old_processed_updates_only(journal: SQLStore) -> None:
    await journal.record_updates([update(1), update(2)], now=NOW - dt.timedelta(days=2))
    await journal.commit(Outcome(update=update(1)), now=NOW)
    assert await journal.purge_journal(before=NOW - dt.timedelta(hours=26)) == 1
    assert await journal.unprocessed_updates("mara") == [update(2)]
    assert await journal.record_updates([update(1)], now=NOW) == [update(1)]  # forgotten after the window


async def test_a_calls_delivery_is_journalled_beside_its_params(journal: SQLStore) -> None:
    from bots.calls import Delivery, Placement

    delivery = Delivery(quiet=True, lang="ru", vanish=3600.0, handoff=Placement("h9", place="relay", in_topic=True))
    made = OutgoingCall("c-1", "mara", "c1", 0, "copyMessage", {"chat_id": 5, "from_chat_id": -7, "message_id": 3}, delivery)
    await journal.commit(Outcome(calls=[made]), now=NOW)
    [back] = await journal.pending_calls("mara")
    assert back == made and back.params == {"chat_id": 5, "from_chat_id": -7, "message_id": 3}
