"""The sender's bookkeeping of what it sent, through python-telegram-bot against the stand-in
and a real store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bots.calls import BotApiCall, Delivery
from bots.i18n.translations import project_translator
from bots.loader import load_project
from bots.privacy.pseudonyms import Pseudonyms
from bots.storage import ConversationKey, SQLiteConversationStore
from bots.storage.journal import journal_entries
from bots.storage.outcome import Outcome
from bots.telegram.app import make_bot
from bots.telegram.pacing import Pacer
from bots.telegram.runner import BotRunner
from bots.telegram.sender import Sender
from bots.testing.standin import BotApiStandin
from tests.support.project import BOT_YAML, FAILING_TEMPLATE, write_project
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


async def test_a_runner_runs_between_start_and_stop_as_async_with_says(api: BotApiStandin, tmp_path: Path) -> None:
    files = {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": FAILING_TEMPLATE}
    project, diagnostics = load_project(write_project(tmp_path / "p", files))
    assert not diagnostics.errors
    async with SQLiteConversationStore(tmp_path / "bots.db") as store:
        bot = make_bot(TOKEN, api.base_url)
        async with BotRunner(project, "demo", bot, store, project_translator(project.root)) as runner:
            assert [c.method for c in api.calls][:1] == ["getMe"]  # started: the token checked first
            assert {c.params.get("language_code") for c in api.calls_to("setMyCommands")} >= {"en", "ru"}
            person = api.user("Ala")
            chat = {"id": person.id, "type": "private", "first_name": "Ala"}
            sender = {"id": person.id, "is_bot": False, "first_name": "Ala"}
            message = {"message_id": 1, "date": 0, "chat": chat, "from": sender, "text": "/start"}
            await runner.receive([{"update_id": 1, "message": message}])
            [asked] = await api.wait_for_messages(person, 1)
            assert asked.text == "Number?"
        assert runner.chats.workers == {} and not runner.sender.queues  # stopped: nothing left running
