"""Issue 13 through the Bot API stand-in: a vanishing chat across a restart, the quick exit
under a 429, and protect_content on every send."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.testing.standin import BotApiStandin
from tests.support.project import add_to_bot_yaml
from tests.support.standin import greeting
from tests.support.store import TABLES_WITH_CHATS, chat_key, rows_about

PROTECTED = {"sendMessage", "sendDocument", "copyMessage"}
CHAT_ROWS = (*TABLES_WITH_CHATS, "vanishing")


async def test_messages_older_than_vanish_after_are_deleted_after_a_restart(
    api: BotApiStandin, running, project: Path, tmp_path: Path
) -> None:
    add_to_bot_yaml(project, "vanish_after: 1h\n")
    bot = await running("--pace", "off").start()
    olga = api.user("Olga")
    start = await api.send_text(olga, "/start")
    [question] = await api.wait_for_messages(olga, 1, timeout=15)
    assert question.text == "Hello, Olga! Colour?\n\nOur messages in this chat are deleted after 1 hour."
    await api.press(olga, question, "Red")
    [size] = await api.wait_for_messages(olga, 1, timeout=10)
    db = tmp_path / "bots.db"
    key = chat_key(olga.id)
    await api.wait_until(lambda: rows_about(db, key, CHAT_ROWS)["vanishing"] == 3, timeout=10)  # /start, the two questions
    code, errors = await bot.stop()
    assert code == 0, errors
    assert not any(m.deleted for m in (start, question, size))  # not an hour old yet

    with sqlite3.connect(db) as conn:  # the bot was down for over an hour
        conn.execute("UPDATE vanishing SET delete_at = delete_at - 3700")
    await running("--pace", "off").start()
    await api.wait_until(lambda: start.deleted and question.deleted and size.deleted, timeout=15)
    await api.wait_until(lambda: rows_about(db, key, CHAT_ROWS)["outbox"] == 0, timeout=10)
    assert rows_about(db, key, CHAT_ROWS)["vanishing"] == 0 and rows_about(db, key, CHAT_ROWS)["messages"] == 0


async def test_a_person_who_chooses_an_hour_has_what_the_bot_already_sent_scheduled(
    api: BotApiStandin, running, tmp_path: Path
) -> None:
    bot = await running("--pace", "off").start()
    pavel = api.user("Pavel")
    question = await greeting(api, pavel)
    assert "deleted after" not in question.text  # this bot does not vanish by default
    await api.send_text(pavel, "/help")
    help_message, _ = await api.wait_for_messages(pavel, 2, timeout=10)
    await api.press(pavel, help_message, "Delete our messages after…")
    [offer] = await api.wait_for_messages(pavel, 1, timeout=10)
    await api.press(pavel, offer, "1 hour")
    [done, _] = await api.wait_for_messages(pavel, 2, timeout=10)
    assert done.text == "Done: I will delete our messages here once they are 1 hour old."
    db, key = tmp_path / "bots.db", chat_key(pavel.id)
    await api.wait_until(lambda: rows_about(db, key, CHAT_ROWS)["vanishing"] >= 6, timeout=10)
    await api.press(pavel, help_message, "Delete our messages after…")
    [offer] = await api.wait_for_messages(pavel, 1, timeout=10)
    await api.press(pavel, offer, "Never")
    await api.wait_for_messages(pavel, 2, timeout=10)
    await api.wait_until(lambda: rows_about(db, key, CHAT_ROWS)["vanishing"] == 0, timeout=10)
    code, errors = await bot.stop()
    assert code == 0, errors


async def test_quick_exit_under_a_429_deletes_first_and_leaves_nothing(api: BotApiStandin, running, tmp_path: Path) -> None:
    bot = await running("--pace", "off").start()
    alice, boris = api.user("Alesia"), api.user("Boris")
    first = await api.send_text(alice, "/start")
    [question] = await api.wait_for_messages(alice, 1, timeout=15)
    await api.press(alice, question, "Blue")
    [size] = await api.wait_for_messages(alice, 1, timeout=10)
    await api.send_text(boris, "/start")
    await api.wait_for_messages(boris, 1, timeout=10)

    api.fail_next("sendMessage", status=429, retry_after=2)  # Telegram asks the bot to slow down
    await api.send_text(boris, "hello")  # his reply meets the 429 and waits, with the next ones
    throttled = await api.wait_until(lambda: next((c for c in api.calls if c.status == 429), None), timeout=10)
    await api.send_text(boris, "still there?")
    exit_command = await api.send_text(alice, "/x")
    [line] = await api.wait_for_messages(alice, 1, timeout=10)
    assert line.text == "Weather today: sunny, light wind."

    after = api.calls[api.calls.index(throttled) + 1 :]
    first_after = next(c for c in after if c.method != "getUpdates")
    assert first_after.method == "deleteMessages" and first_after.params["chat_id"] == alice.id  # deletions first
    assert {first.message_id, exit_command.message_id, question.message_id, size.message_id} <= set(
        first_after.params["message_ids"]
    )
    assert all(m.deleted for m in (first, question, size, exit_command))
    assert [m for m in api.messages(alice) if not m.deleted] == [line]
    await api.wait_for_messages(boris, 2, timeout=10)  # Boris is answered once the 429 is over
    code, errors = await bot.stop()
    assert code == 0, errors
    assert rows_about(tmp_path / "bots.db", chat_key(alice.id), CHAT_ROWS) == dict.fromkeys(CHAT_ROWS, 0)


async def test_every_send_carries_protect_content_documents_too(api: BotApiStandin, running) -> None:
    bot = await running("--pace", "off").start()
    nina = api.user("Nina")
    question = await greeting(api, nina)
    await api.press(nina, question, "Red")
    await api.wait_for_messages(nina, 1, timeout=10)
    await api.send_text(nina, "2")
    await api.wait_until(lambda: any("Saved 2 red." in (m.text or "") for m in api.messages(nina)), timeout=10)
    await api.send_text(nina, "/x")
    await api.wait_until(lambda: any("Weather" in (m.text or "") for m in api.messages(nina)), timeout=10)
    code, errors = await bot.stop()
    assert code == 0, errors
    sends = [c for c in api.calls if c.method in PROTECTED]
    assert {c.method for c in sends} == {"sendMessage", "sendDocument"}
    assert all(c.params.get("protect_content") in (True, "true", "True") for c in sends), [
        c.method for c in sends if not c.params.get("protect_content")
    ]


async def test_protect_content_false_in_bot_yaml_sends_without_it(api: BotApiStandin, running, project: Path) -> None:
    add_to_bot_yaml(project, "protect_content: false\n")
    bot = await running("--pace", "off").start()
    ivan = api.user("Ivan")
    await api.send_text(ivan, "/start")
    await api.wait_for_messages(ivan, 1, timeout=15)
    code, errors = await bot.stop()
    assert code == 0, errors
    assert not any(c.params.get("protect_content") for c in api.calls_to("sendMessage"))
