"""Vanishing chats' schedule (issue 13), on both engines: durable, sealed, gone once done."""

from __future__ import annotations

import datetime as dt

from bots.storage import ConversationKey, SQLStore, store_at
from bots.storage.outcome import Outcome
from bots.storage.sql_vanish import Due

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)
PERSON = 700_123_456
KEY = ConversationKey("mara", "chat-key-1")


async def test_messages_come_due_after_their_delay_and_survive_a_reopening(store: SQLStore, location: str) -> None:
    await store.remember_messages("mara", KEY.chat, [11, 12], now=NOW, vanish=(PERSON, 3600))
    await store.commit(Outcome(key=KEY, messages=[13], vanish=(PERSON, 3600)), now=NOW + HOUR / 2)
    await store.remember_messages("mara", "someone-else", [5], now=NOW, vanish=None)  # not vanishing
    assert await store.due_vanishing("mara", now=NOW + HOUR / 2) == []
    await store.shutdown()

    async with store_at(location) as reopened:  # a restart in between
        assert await reopened.due_vanishing("mara", now=NOW + HOUR) == [Due(KEY.chat, PERSON, (11, 12))]
        [due] = await reopened.due_vanishing("mara", now=NOW + 2 * HOUR)
        assert due == Due(KEY.chat, PERSON, (11, 12, 13))
        await reopened.commit(Outcome(extra=reopened.vanished_statements("mara", due)), now=NOW + 2 * HOUR)
        assert await reopened.due_vanishing("mara", now=NOW + 3 * HOUR) == []
        assert await reopened.vanishing_count("mara") == 0
        # the message ids are gone too: /forget has nothing left to try
        assert await reopened.recent_messages("mara", KEY.chat, now=NOW + 2 * HOUR) == []
        assert await reopened.recent_messages("mara", "someone-else", now=NOW + 2 * HOUR) == [5]


async def test_the_chat_id_is_sealed(store: SQLStore) -> None:
    await store.remember_messages("mara", KEY.chat, [1], now=NOW, vanish=(PERSON, 60))
    [row] = await store.database.fetchall("SELECT bot, chat, message_id, delete_at, person FROM vanishing", ())
    assert str(PERSON).encode() not in bytes(row[4])
    assert all(str(PERSON) not in str(value) for value in row[:4])


async def test_a_new_choice_reschedules_what_the_bot_still_knows_and_never_unschedules(store: SQLStore) -> None:
    await store.remember_messages("mara", KEY.chat, [1, 2], now=NOW, vanish=None)
    await store.reschedule_vanishing("mara", KEY.chat, (PERSON, 3600), now=NOW + HOUR / 2)
    assert await store.vanishing_count("mara", KEY.chat) == 2
    [due] = await store.due_vanishing("mara", now=NOW + HOUR)  # from when each was sent, not from the choice
    assert due.message_ids == (1, 2)
    await store.reschedule_vanishing("mara", KEY.chat, (PERSON, 86400), now=NOW + HOUR / 2)
    assert await store.vanishing_count("mara", KEY.chat) == 2
    assert await store.due_vanishing("mara", now=NOW + HOUR) == []
    await store.reschedule_vanishing("mara", KEY.chat, None, now=NOW + HOUR / 2)
    assert await store.vanishing_count("mara", KEY.chat) == 0


async def test_forget_removes_the_schedule(store: SQLStore) -> None:
    await store.remember_messages("mara", KEY.chat, [1, 2], now=NOW, vanish=(PERSON, 60))
    await store.remember_messages("mara", "other", [3], now=NOW, vanish=(PERSON + 1, 60))
    await store.forget_chat("mara", KEY.chat, update=None, calls=[], now=NOW)
    assert await store.vanishing_count("mara", KEY.chat) == 0
    assert await store.vanishing_count("mara", "other") == 1


async def test_rows_too_old_to_delete_are_purged(store: SQLStore) -> None:
    await store.remember_messages("mara", KEY.chat, [1], now=NOW, vanish=(PERSON, 60))
    await store.purge_vanishing(now=NOW + dt.timedelta(hours=47))
    assert await store.vanishing_count("mara") == 1
    await store.purge_vanishing(now=NOW + dt.timedelta(hours=49))
    assert await store.vanishing_count("mara") == 0
