"""What several workers on one database share: leases, heartbeats, calls taken over from a
dead worker, a conversation's lock, updates recorded once. Two stores on one database stand
for two workers (each has its own connections, as two processes would)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest

from bots.storage import ConversationKey, IncomingUpdate, OutgoingCall, SQLStore, store_at
from bots.storage.outcome import Outcome
from bots.storage.sql_workers import WORKER_TIMEOUT

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
async def second(store: SQLStore, location: str) -> AsyncIterator[SQLStore]:
    """Another worker on the same database."""
    async with store_at(location) as other:
        yield other


def call(n: int, chat: str = "c1") -> OutgoingCall:
    return OutgoingCall(f"call-{chat}-{n}", "mara", chat, n, "sendMessage", {"chat_id": 1, "text": f"t{n}"})


async def test_one_worker_holds_a_lease_until_it_expires_or_is_dropped(store: SQLStore, second: SQLStore) -> None:
    now = time.time()
    assert await store.take_lease("poll mara", ttl=8, now=now)
    assert not await second.take_lease("poll mara", ttl=8, now=now + 1)
    assert await store.take_lease("poll mara", ttl=8, now=now + 2)  # renewed by its holder
    assert await second.lease_holder("poll mara", now=now + 3) == store.worker
    # the holder stops renewing (it died): the lease is free once it has expired
    assert not await second.take_lease("poll mara", ttl=8, now=now + 9.9)
    assert await second.take_lease("poll mara", ttl=8, now=now + 10.1)
    assert not await store.take_lease("poll mara", ttl=8, now=now + 11)
    await second.drop_lease("poll mara")
    assert await store.take_lease("poll mara", ttl=8, now=now + 12)
    assert await second.take_lease("tidy", ttl=8, now=now + 12)  # leases are independent


async def test_a_worker_that_leaves_frees_its_leases_at_once(store: SQLStore, second: SQLStore) -> None:
    await store.heartbeat()
    assert await store.take_lease("weekly reports", ttl=60)
    await store.leave()
    assert await second.take_lease("weekly reports", ttl=60)
    assert [w for w, _ in await second.workers()] == []


async def test_calls_of_a_dead_worker_are_taken_over_once(store: SQLStore, second: SQLStore) -> None:
    started = time.time()
    await store.heartbeat(now=started)
    await second.heartbeat(now=started)
    await store.commit(Outcome(calls=[call(0), call(1), call(0, "c2")]), now=NOW)
    # while its worker is alive, nobody else takes its calls
    assert await second.adopt_calls("mara", now=started + 1) == []
    # it died: its heartbeat is older than the timeout
    later = started + WORKER_TIMEOUT + 1
    await second.heartbeat(now=later)
    taken = await second.adopt_calls("mara", now=later)
    assert [c.id for c in taken] == ["call-c1-0", "call-c1-1", "call-c2-0"]
    assert taken[0].params == {"chat_id": 1, "text": "t0"}
    assert await second.adopt_calls("mara", now=later) == []  # claimed: never given twice
    # a third worker sees them owned by a live worker
    await store.heartbeat(now=later)
    assert await store.adopt_calls("mara", now=later) == []


async def test_a_chats_earlier_calls_of_another_worker_go_first(store: SQLStore, second: SQLStore) -> None:
    if not store.shared:
        pytest.skip("one process per SQLite file: no other worker can hold a chat's calls")
    started = time.time()
    await store.heartbeat(now=started)
    await second.heartbeat(now=started)
    await store.commit(Outcome(calls=[call(0)]), now=NOW)
    await second.commit(Outcome(calls=[call(1), call(0, "c2")]), now=NOW)
    assert await second.calls_before(call(1)) is None  # the other worker is alive: wait for it
    assert await second.calls_before(call(0, "c2")) == []  # another chat: nothing to wait for
    assert await store.calls_before(call(0)) == []
    await store.call_done(call(0))
    assert await second.calls_before(call(1)) == []
    # a worker dies with a chat's earlier call unsent: the next call's worker takes it over first
    await store.commit(Outcome(calls=[call(2)]), now=NOW)
    await second.commit(Outcome(calls=[call(3)]), now=NOW)
    await store.heartbeat(now=started - WORKER_TIMEOUT - 1)
    taken = await second.calls_before(call(3))
    assert taken is not None and [c.id for c in taken] == ["call-c1-2"]
    assert await second.calls_before(call(3)) == []  # now its own: nothing before it is anyone else's


async def test_a_conversation_is_held_by_one_worker_at_a_time(store: SQLStore, second: SQLStore) -> None:
    if not store.shared:
        pytest.skip("the SQLite lock is within one process (see test_contract)")
    key = ConversationKey("mara", "c1")
    entered = asyncio.Event()
    release = asyncio.Event()
    order: list[str] = []

    async def first_worker() -> None:
        async with store.lock(key):
            order.append("first in")
            entered.set()
            await release.wait()
            order.append("first out")

    async def second_worker() -> None:
        await entered.wait()
        async with second.try_lock(key) as mine:
            assert not mine  # held by the other worker
        async with second.try_lock(ConversationKey("mara", "c2")) as other:
            assert other  # another chat is free
        waiting = asyncio.create_task(_take(second, key, order))
        await asyncio.sleep(0)  # it is waiting for the lock now
        release.set()
        await waiting

    await asyncio.gather(first_worker(), second_worker())
    assert order == ["first in", "first out", "second in"]


async def test_many_chats_locked_at_once_are_each_held_and_let_go(store: SQLStore, second: SQLStore) -> None:
    """Chats stepped in one turn of the event loop take their locks together (on PostgreSQL, the
    calls for one connection go in one query): each is held against the other worker while its
    step runs, and free for it afterwards (none held twice, none left held)."""
    if not store.shared:
        pytest.skip("the SQLite lock is within one process (see test_contract)")
    keys = [ConversationKey("mara", f"c{i}") for i in range(30)]
    inside = 0
    all_in = asyncio.Event()
    go_on = asyncio.Event()

    async def step(key: ConversationKey) -> None:
        nonlocal inside
        async with store.lock(key):
            inside += 1
            if inside == len(keys):
                all_in.set()
            await go_on.wait()

    steps = [asyncio.create_task(step(key)) for key in keys]
    await all_in.wait()
    for key in keys[::7]:
        async with second.try_lock(key) as mine:
            assert not mine  # held by the first worker
    go_on.set()
    await asyncio.gather(*steps)
    for key in keys:
        async with second.try_lock(key) as mine:
            assert mine  # let go of: the other worker takes it
    for key in keys[:3]:
        async with store.try_lock(key) as mine:
            assert mine  # and the first again (each was let go as often as taken)


async def _take(store: SQLStore, key: ConversationKey, order: list[str]) -> None:
    async with store.lock(key):
        order.append("second in")


async def test_an_update_recorded_by_two_workers_is_recorded_and_given_once(store: SQLStore, second: SQLStore) -> None:
    if not store.shared:
        pytest.skip("one process receives a bot's updates on SQLite")
    updates = [IncomingUpdate("mara", n, "c1", f'{{"update_id": {n}}}') for n in (1, 2)]
    first, again = await asyncio.gather(
        store.record_updates(updates, now=NOW), second.record_updates(updates, now=NOW + dt.timedelta(seconds=1))
    )
    assert sorted(u.update_id for u in first + again) == [1, 2]
    assert [u.update_id for u in await second.unprocessed_updates("mara", chat="c1")] == [1, 2]
    assert await store.waiting_chats("mara", received_before=NOW.timestamp() + 5) == ["c1"]


async def test_recording_updates_tells_the_other_workers(store: SQLStore, second: SQLStore) -> None:
    if not store.shared:
        pytest.skip("no other worker to tell on SQLite")
    told: asyncio.Queue[str] = asyncio.Queue()
    second.inbox_listener(told.put_nowait)
    for attempt in range(50):  # the listener connects in the background
        await store.record_updates([IncomingUpdate("mara", 100 + attempt, "c1", "{}")], now=NOW)
        try:
            assert await asyncio.wait_for(told.get(), 0.2) == "mara"
            break
        except TimeoutError:
            continue
    else:
        pytest.fail("the other worker was never told")


async def test_flood_control_counts_every_workers_updates(store: SQLStore, second: SQLStore) -> None:
    from bots.telegram.flood import Verdict

    now = time.time()
    limits = {"limit": 4, "window": 60.0, "pause": 300.0}
    verdicts = [await (store if n % 2 else second).flood_check("mara", "c1", **limits, now=now + n * 0.1) for n in range(7)]
    assert verdicts == [Verdict.ALLOW] * 4 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert await store.flood_check("mara", "c2", **limits, now=now) is Verdict.ALLOW
    # after the pause the chat starts afresh
    assert await second.flood_check("mara", "c1", **limits, now=now + 301) is Verdict.ALLOW
    # /forget removes the chat's row with the rest
    await store.forget_chat("mara", "c1", update=None, calls=[], now=NOW)
    assert await store.database.fetchval("SELECT COUNT(*) FROM flood WHERE chat = 'c1'") == 0


async def test_the_databases_flood_rule_is_the_guards(store: SQLStore) -> None:
    """The rule kept in PostgreSQL (`bots_flood`) and the one in memory (`FloodGuard`) give the
    same verdicts on the same bursts, pauses and quiet spells."""
    import random

    from bots.telegram.flood import FloodGuard

    rng = random.Random(7)
    for case in range(6):
        limit, window, pause = rng.randint(1, 5), rng.choice([1.0, 2.5, 10.0]), rng.choice([0.5, 3.0, 20.0])
        clock = [1_000.0]
        guard = FloodGuard(limit, window, pause, clock=lambda: clock[0])
        chat = f"case-{case}"
        for _ in range(60):
            clock[0] += rng.choice([0.01, 0.1, 0.4, 1.5, 4.0])
            expected = guard.check(chat)
            got = await store.flood_check("mara", chat, limit=limit, window=window, pause=pause, now=clock[0])
            assert got is expected, (case, clock[0])
