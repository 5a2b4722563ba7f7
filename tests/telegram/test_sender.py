"""The sender's bookkeeping of what it sent, through python-telegram-bot against the stand-in
and a real store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bots.calls import BotApiCall, Delivery
from bots.privacy.pseudonyms import Pseudonyms
from bots.storage import ConversationKey, SQLiteConversationStore
from bots.storage.journal import journal_entries
from bots.storage.outcome import Outcome
from bots.telegram.app import make_bot
from bots.telegram.pacing import Pacer
from bots.telegram.sender import Sender
from bots.testing.standin import BotApiStandin
from tests.support.standin import TOKEN

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)


async def test_a_message_sent_while_its_person_is_forgotten_is_delivered_and_leaves_no_row(
    api: BotApiStandin, tmp_path: Path
) -> None:
    person = api.user("Pavel")
    async with SQLiteConversationStore(tmp_path / "bots.db") as store:
        chat = store.vault.chat_key("demo", person.id)
        bot = make_bot(TOKEN, api.base_url)
        await bot.initialize()
        sender = Sender("demo", bot, store, Pacer(enabled=False), Pseudonyms("demo"), tmp_path)
        [kept, lost] = journal_entries(
            "demo",
            [
                BotApiCall(chat, "sendMessage", {"chat_id": person.id, "text": text}, Delivery(vanish=3600))
                for text in ("one", "two")
            ],
        )
        await store.commit(Outcome(key=ConversationKey("demo", chat), calls=[kept]), now=NOW)
        sender.enqueue([kept])
        await sender.wait_idle(5)
        assert [m.text for m in api.messages(person)] == ["one"]
        assert await store.recent_messages("demo", chat, now=dt.datetime.now(dt.timezone.utc))  # remembered, to delete later

        await store.forget_chat("demo", chat, update=None, calls=[], now=NOW)  # afresh: the row of `one` goes
        await store.commit(Outcome(key=ConversationKey("demo", chat), calls=[lost]), now=NOW)
        api.delay("sendMessage", 0.5)
        sender.enqueue([lost])
        await api.wait_until(lambda: api.handling == 1)  # `two` is with Telegram ...
        await store.forget_chat("demo", chat, update=None, calls=[], now=NOW)  # ... when the person is forgotten
        await sender.wait_idle(5)
        assert [m.text for m in api.messages(person)] == ["one", "two"]  # it still reached them (and /forget could not know)
        assert await store.recent_messages("demo", chat, now=dt.datetime.now(dt.timezone.utc)) == []
        assert await store.vanishing_count("demo", chat) == 0  # nothing of the person is written after they are forgotten
        await sender.stop()
        await bot.shutdown()
