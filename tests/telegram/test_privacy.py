"""Issue 7 end to end: a seized database and its logs reveal nothing; /forget forgets;
retention purges; the secret key is required and checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bots.loader import load_project
from bots.privacy.vault import Vault
from bots.telegram.housekeeping import tidy_once
from bots.testing.standin import BotApiStandin
from tests.support.commands import BotProcess, run_bots
from tests.support.project import add_to_bot_yaml
from tests.support.standin import TOKEN, escalate, greeting
from tests.support.store import TABLES_WITH_CHATS, chat_key, everything_on_disk, keyed_store, rows_about


async def test_a_copied_database_and_the_logs_reveal_nothing(api: BotApiStandin, desk, tmp_path: Path) -> None:
    anna = api.user("Anna", username="anna_moderates")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    process = desk(group.id)
    process.global_args = ("-vv",)
    bot = await process.start()
    alice = api.user("Alesia", last_name="Kupala", username="alesia_from_hrodna")
    await escalate(api, alice, "Zhodino")
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    await api.send_text(alice, "My brother Ales was taken on Masherova avenue")
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    await api.send_text(anna, "/claim", chat=group, topic=topic)
    await api.send_text(anna, "We will call the lawyer Siarhei", chat=group, topic=topic)
    await api.wait_for_messages(alice, 1, timeout=10)
    code, log = await bot.stop()
    assert code == 0, log

    secrets = [
        "Alesia",
        "Kupala",
        "alesia_from_hrodna",
        "Anna",
        "anna_moderates",
        "Zhodino",
        "Masherova",
        "Siarhei",
        "took my phone",
        "They took",
        str(alice.id),
        str(anna.id),
        str(group.id),
        str(abs(group.id))[3:],
        TOKEN,
    ]
    disk = everything_on_disk(tmp_path / "bots.db")
    assert len(disk) > 10_000  # there is a database, with this conversation in it
    for secret in secrets:
        assert secret.encode() not in disk, secret
        assert secret not in log, secret
    assert "Zhodino" in "\n".join(m.text or "" for m in api.messages(group))  # the moderators did see it


async def test_forget_deletes_every_row_the_messages_and_the_topic(api: BotApiStandin, desk, tmp_path: Path) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    bot = await desk(group.id).start()
    bob, carol = api.user("Bob"), api.user("Carol")
    await escalate(api, bob)
    await escalate(api, carol, "Brest")  # someone else, who must keep everything
    topic = await api.wait_until(lambda: next((t for t in api.topics(group) if "Minsk" in t.name), None), timeout=10)
    await api.send_text(bob, "hello")
    await api.wait_until(lambda: len(api.messages(group, topic=topic)) >= 2, timeout=10)

    await api.send_text(bob, "/subscribe")
    await api.wait_for_messages(bob, 1, timeout=10)  # "you will get our news" (during a handoff, nothing more)
    bob_key = chat_key(bob.id)
    await api.wait_until(lambda: rows_about(tmp_path / "bots.db", bob_key)["subscribers"] == 1, timeout=10)
    await api.send_text(bob, "/help")
    [help_message] = await api.wait_for_messages(bob, 1, timeout=10)
    await api.press(bob, help_message, "Forget everything about me")
    [confirm] = await api.wait_for_messages(bob, 1, timeout=10)
    assert confirm.text.startswith("Delete everything I keep about you?")
    await api.press(bob, confirm, "Yes, delete everything")
    [done] = await api.wait_for_messages(bob, 1, timeout=10)
    assert done.text.startswith("Done: I have deleted everything I kept about you.")

    await api.wait_until(lambda: topic.deleted, timeout=10)
    deleted = [c for c in api.calls_to("deleteMessages") if c.params["chat_id"] == bob.id]
    ids = {i for c in deleted for i in c.params["message_ids"]}
    live = [m for m in api.messages(bob) if not m.deleted]
    assert live == [done]  # only the confirmation is left in the chat
    assert confirm.message_id in ids and help_message.message_id in ids
    code, errors = await bot.stop()
    assert code == 0, errors

    db = tmp_path / "bots.db"
    assert rows_about(db, bob_key) == dict.fromkeys(TABLES_WITH_CHATS, 0)
    carol_rows = rows_about(db, chat_key(carol.id))
    assert carol_rows["conversations"] == 1 and carol_rows["handoffs"] == 1
    assert any(not t.deleted and "Brest" in t.name for t in api.topics(group))


async def test_retention_purges_idle_conversations_and_closed_handoffs(
    api: BotApiStandin, desk, desk_project, tmp_path: Path
) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    bot = await desk(group.id).start()
    dora = api.user("Dora")
    await escalate(api, dora)
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    await api.send_text(dora, "/end")
    await api.wait_for_messages(dora, 2, timeout=10)
    code, errors = await bot.stop()
    assert code == 0, errors

    project, _ = load_project(desk_project)
    key = chat_key(dora.id)
    db = tmp_path / "bots.db"
    async with keyed_store(db) as store:
        await tidy_once(store, project, ["demo"], dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=29))
    assert rows_about(db, key)["conversations"] == 1  # not yet
    async with keyed_store(db) as store:
        await tidy_once(store, project, ["demo"], dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31))
    assert rows_about(db, key) == dict.fromkeys(TABLES_WITH_CHATS, 0)


async def test_the_secret_key_is_required_checked_and_bound_to_the_database(api: BotApiStandin, project, tmp_path: Path) -> None:
    db = tmp_path / "bots.db"
    without = BotProcess(project, api, db, env={"BOTS_SECRET_KEY": ""})
    code, errors = await (await without.start()).wait()
    assert code == 2 and "bots run needs a secret key" in errors and "--insecure-dev" in errors
    weak = BotProcess(project, api, db, env={"BOTS_SECRET_KEY": "password123"})
    code, errors = await (await weak.start()).wait()
    assert code == 2 and "BOTS_SECRET_KEY is too weak" in errors

    dev = BotProcess(project, api, db, "--insecure-dev", env={"BOTS_SECRET_KEY": ""})
    await dev.start()
    who = api.user("Eve")
    await api.send_text(who, "/start")
    await api.wait_for_messages(who, 1, timeout=15)
    code, errors = await dev.stop()
    assert code == 0 and "using the local development key" in errors

    other = BotProcess(project, api, db)  # the tests' real key: not the key this database was made with
    code, errors = await (await other.start()).wait()
    assert code == 1 and "was written with another secret key" in errors


def test_bots_keygen_makes_strong_keys() -> None:
    made = run_bots("keygen")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert len(key) == 43 and Vault.from_env({"BOTS_SECRET_KEY": key}) is not None


async def test_a_flood_from_one_person_is_paused_while_others_are_served(api: BotApiStandin, running, project: Path) -> None:
    add_to_bot_yaml(project, "flood: {messages: 5, seconds: 60, pause: 300}\n")
    bot = await running("--pace", "off").start()
    mallory, olga = api.user("Mallory"), api.user("Olga")
    await api.send_text(mallory, "/start")
    await api.wait_for_messages(mallory, 1, timeout=15)
    for number in range(60):
        await api.send_text(mallory, f"spam {number}")
    question = await greeting(api, olga, timeout=10)
    assert question.text == "Hello, Olga! Colour?"
    warning = await api.wait_until(
        lambda: next((m for m in api.messages(mallory) if "very fast" in (m.text or "")), None), timeout=10
    )
    assert warning.text.startswith("You are sending messages very fast")
    await api.press(olga, question, "Red")  # still served at once
    [size] = await api.wait_for_messages(olga, 1, timeout=10)
    assert size.text == "Size for red?"
    code, errors = await bot.stop()
    assert code == 0, errors
    replies = [m for m in api.messages(mallory) if m.text]
    assert len(replies) <= 1 + 2 * 4 + 1  # the first question, at most two replies to each of 4 allowed, one warning
    assert sum("very fast" in m.text for m in replies) == 1


async def test_oversized_files_are_refused_politely(api: BotApiStandin, running) -> None:
    await running("--pace", "off").start()
    nina = api.user("Nina")
    await api.send_text(nina, "/start")
    await api.wait_for_messages(nina, 1, timeout=15)
    big = await api.send_document(nina, b"x" * 10, file_name="scan.pdf", mime_type="application/pdf")
    assert big.media is not None
    refused, again = await api.wait_for_messages(nina, 2, timeout=10)
    assert refused.text == "Please choose one of the buttons."  # a small file where a button is expected
    big.media["document"]["file_size"] = 25 * 1024 * 1024  # what Telegram would report for a 25 MB file
    await api.send_message(nina, media=big.media)
    refused, again = await api.wait_for_messages(nina, 2, timeout=10)
    assert refused.text == "That file is too large to pass on: please send files of up to 20 MB."
    assert again.text == "Hello, Nina! Colour?"
