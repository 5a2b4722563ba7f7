"""A turn's outcome committed in one transaction (`SQLStore.commit`), on both engines."""

from __future__ import annotations

import datetime as dt

from bots.engine.state import ConversationState
from bots.storage import ConversationKey, IncomingUpdate, SQLStore
from bots.storage.outcome import Outcome, Subscribed

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)
PERSON = 700_123_456
KEY = ConversationKey("mara", "chat-key-1")


async def test_the_state_the_update_the_subscription_and_the_schedule_go_together(store: SQLStore) -> None:
    [update] = await store.record_updates([IncomingUpdate("mara", 1, KEY.chat, '{"update_id": 1}')], now=NOW)
    await store.remember_messages("mara", KEY.chat, [10], now=NOW - dt.timedelta(minutes=5), vanish=None)
    state = ConversationState(lang="be", status="active")
    outcome = Outcome(
        update=update,
        key=KEY,
        state=state,
        messages=[11],
        counts=[("started", "", 1.0)],
        reschedule=(PERSON, 60.0),  # the person chose to vanish after a minute: the older message follows
        vanish=(PERSON, 60.0),
        subscription=Subscribed("on", PERSON, "be"),
    )
    await store.commit(outcome, now=NOW)
    assert (await store.load(KEY)) is not None
    assert await store.unprocessed_updates("mara") == []
    assert await store.subscribers_by_lang("mara") == {"be": 1}
    assert await store.vanishing_count("mara", KEY.chat) == 2
    [due] = await store.due_vanishing("mara", now=NOW + dt.timedelta(minutes=1))
    assert sorted(due.message_ids) == [10, 11] and due.person == PERSON


async def test_a_new_language_moves_a_subscription_and_never_makes_one(store: SQLStore) -> None:
    other = ConversationKey("mara", "chat-key-2")
    await store.commit(Outcome(key=KEY, subscription=Subscribed("on", PERSON, "be")), now=NOW)
    await store.commit(Outcome(key=KEY, subscription=Subscribed("language", PERSON, "ru")), now=NOW)
    await store.commit(Outcome(key=other, subscription=Subscribed("language", PERSON + 1, "ru")), now=NOW)
    assert await store.subscribers_by_lang("mara") == {"ru": 1}
    assert not await store.is_subscribed("mara", other.chat)
    await store.commit(Outcome(key=KEY, subscription=Subscribed("off", PERSON, "ru")), now=NOW)
    assert await store.subscriber_count("mara") == 0


async def test_choosing_not_to_vanish_unschedules_and_forgetting_leaves_nothing(store: SQLStore) -> None:
    await store.commit(Outcome(key=KEY, messages=[1, 2], vanish=(PERSON, 60.0)), now=NOW)
    await store.commit(Outcome(key=KEY, reschedule=(PERSON, 0.0)), now=NOW)
    assert await store.vanishing_count("mara", KEY.chat) == 0
    await store.commit(Outcome(key=KEY, state=ConversationState(lang="be", status="active"), messages=[3]), now=NOW)
    await store.commit(Outcome(key=KEY, forget=True), now=NOW)
    assert await store.load(KEY) is None
    assert await store.recent_messages("mara", KEY.chat, now=NOW) == []


async def test_a_message_sent_while_its_person_was_forgotten_leaves_no_row(store: SQLStore) -> None:
    from bots.calls import BotApiCall, Delivery
    from bots.storage.journal import journal_entries

    [kept, lost] = journal_entries(
        "mara", [BotApiCall(KEY.chat, "sendMessage", {"chat_id": PERSON, "text": "."}, Delivery())] * 2
    )
    await store.commit(Outcome(key=KEY, calls=[kept]), now=NOW)  # `lost` was journalled, then forgotten with its person
    await store.remember_messages("mara", KEY.chat, [5], now=NOW, vanish=(PERSON, 60.0), journalled=kept.id)
    await store.remember_messages("mara", KEY.chat, [6], now=NOW, vanish=(PERSON, 60.0), journalled=lost.id)
    assert await store.recent_messages("mara", KEY.chat, now=NOW) == [5]
    assert await store.vanishing_count("mara", KEY.chat) == 1
