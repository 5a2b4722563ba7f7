"""Issue 13, point 5, on the real Mara flows: a greeting-card order reaches the organisers as
an application card with only what the person gave for it, is decided, and leaves no trace
once retention passes; then a seized database and logs, after vanishing chats, a quick exit
and orders, hold no id, name or text."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from bots.loader import load_project
from bots.telegram.housekeeping import tidy_once
from bots.testing.standin import BotApiStandin
from tests.support.commands import BotProcess
from tests.support.standin import TOKEN
from tests.support.store import chat_key, everything_on_disk, keyed_store, rows_about

ROOT = Path(__file__).resolve().parents[2]  # the project itself: the shipped flows


def mara(api: BotApiStandin, db: Path, group_id: int) -> BotProcess:
    process = BotProcess(
        ROOT,
        api,
        db,
        "mara",
        "--pace",
        "off",
        "--no-reload",
        env={"MARA_BOT_TOKEN": TOKEN, "MARA_MODERATORS_CHAT": str(group_id)},
    )
    process.global_args = ("-vv",)
    return process


async def order_cards(api: BotApiStandin, who, count: str, *, email: str | None) -> None:
    await api.send_text(who, "/start")
    welcome, menu = await api.wait_for_messages(who, 2, timeout=20)
    await api.press(who, menu, "Send a card to a prisoner's mother")
    [intro] = await api.wait_for_messages(who, 1, timeout=10)
    await api.press(who, intro, "Send cards")
    await api.wait_for_messages(who, 1, timeout=10)
    await api.send_text(who, count)
    [timing] = await api.wait_for_messages(who, 1, timeout=10)
    await api.press(who, timing, "As soon as possible")
    [receipt] = await api.wait_for_messages(who, 1, timeout=10)
    if email:
        await api.press(who, receipt, "Yes, email me a receipt")
        [asked] = await api.wait_for_messages(who, 1, timeout=10)
        assert "Only the campaign's organisers see it" in asked.text
        await api.send_text(who, email)
    else:
        await api.press(who, receipt, "No receipt, thanks")
    [confirm] = await api.wait_for_messages(who, 1, timeout=10)
    await api.press(who, confirm, "Yes, send them")


async def test_a_card_order_reaches_the_organisers_is_decided_and_leaves_no_trace(api: BotApiStandin, tmp_path: Path) -> None:
    organiser = api.user("Halina", username="halina_organises")
    group = api.supergroup("Card campaign", forum=True, members=[organiser])
    db = tmp_path / "bots.db"
    bot = await mara(api, db, group.id).start()
    alesia, boris = api.user("Alesia", last_name="Kupala"), api.user("Boris")

    await order_cards(api, alesia, "3", email="mother.cards@example.org")
    note, told = await api.wait_for_messages(alesia, 2, timeout=10)
    assert note.text == "We'll send the receipt to mother.cards@example.org."
    assert told.text.startswith("Thank you, Alesia! Your order has gone to the campaign's organisers.")
    assert "Send /end when you want to finish." in told.text  # what happens next
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    assert topic.name.startswith("Greeting cards: 3 · ")
    [card] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert "New application: Greeting cards: 3" in card.text
    answers = card.text.split("Answers:")[1].split("\n\n")[0].strip().splitlines()
    assert answers == ["• cards: 3", "• send_on: asap", "• email: mother.cards@example.org"]  # only what she gave for it
    assert "Alesia" not in card.text and "Kupala" not in card.text
    assert [b["text"] for row in card.reply_markup["inline_keyboard"] for b in row] == [
        "Claim",
        "Accept",
        "Decline",
        "Close",
        "Return to bot",
    ]

    await api.press(organiser, card, "Accept")
    [accepted] = await api.wait_for_messages(alesia, 1, timeout=10)
    assert (
        accepted.text
        == "Thank you! Volunteers will send your 3 cards in the next few days. Send /start whenever you want to come back."
    )
    await api.wait_until(lambda: topic.closed, timeout=10)

    await order_cards(api, boris, "2", email=None)
    await api.wait_for_messages(boris, 1, timeout=10)
    boris_topic = await api.wait_until(lambda: next((t for t in api.topics(group) if t is not topic), None), timeout=10)
    [boris_card] = await api.wait_for_messages(group, 1, topic=boris_topic, timeout=10)
    assert "email" not in boris_card.text
    await api.press(organiser, boris_card, "Decline")
    [declined] = await api.wait_for_messages(boris, 1, timeout=10)
    assert declined.text.startswith("Thank you for wanting to help. The organisers cannot take your order right now")
    code, log = await bot.stop()
    assert code == 0, log
    assert all(c.params.get("protect_content") for c in api.calls if c.method in ("sendMessage", "copyMessage"))

    project, _ = load_project(ROOT)
    async with keyed_store(db) as store:
        await tidy_once(store, project, ["mara"], dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM handoffs").fetchone()[0] == 0  # decided, and retention passed
        assert conn.execute("SELECT COUNT(*) FROM relays").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0
    for secret in ("mother.cards@example.org", "Alesia", "Kupala", "Halina", "halina_organises", str(alesia.id), str(group.id)):
        assert secret.encode() not in everything_on_disk(db), secret
        assert secret not in log, secret


async def test_a_seized_database_and_logs_after_vanishing_exits_and_orders_hold_nothing(
    api: BotApiStandin, tmp_path: Path
) -> None:
    organiser = api.user("Halina", username="halina_organises")
    group = api.supergroup("Card campaign", forum=True, members=[organiser])
    db = tmp_path / "bots.db"
    bot = await mara(api, db, group.id).start()
    olga, pavel = api.user("Olga", last_name="Sapieha", username="olga_from_brest"), api.user("Pavel", username="pavel_zhodino")

    # Olga makes her chat vanish after an hour, orders cards with a receipt, talks to the organiser
    await api.send_text(olga, "/help")
    [help_message] = await api.wait_for_messages(olga, 1, timeout=20)
    await api.press(olga, help_message, "Delete our messages after…")
    [offer] = await api.wait_for_messages(olga, 1, timeout=10)
    await api.press(olga, offer, "1 hour")
    await api.wait_for_messages(olga, 3, timeout=10)  # done, then the conversation begins: welcome, menu
    await order_cards(api, olga, "4", email="olga.receipts@example.org")
    await api.wait_for_messages(olga, 2, timeout=10)
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    await api.send_text(olga, "My son Mikalai is in the Navapolatsk colony")
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    await api.send_text(organiser, "We will write to Mikalai's mother in Polatsk", chat=group, topic=topic)
    await api.wait_for_messages(olga, 1, timeout=10)
    with sqlite3.connect(db) as conn:  # her chat is scheduled to vanish, sealed
        assert conn.execute("SELECT COUNT(*) FROM vanishing").fetchone()[0] > 5

    # Pavel starts, then leaves at once
    await api.send_text(pavel, "/start")
    await api.wait_for_messages(pavel, 2, timeout=10)
    await api.send_text(pavel, "I was detained near Akrestsina")
    await api.wait_for_messages(pavel, 1, timeout=10)
    await api.send_text(pavel, "/x")
    await api.wait_until(lambda: any((m.text or "").startswith("Weather today") for m in api.messages(pavel)), timeout=10)
    code, log = await bot.stop()
    assert code == 0, log

    secrets = [
        "Olga",
        "Sapieha",
        "olga_from_brest",
        "olga.receipts@example.org",
        "Mikalai",
        "Navapolatsk",
        "Polatsk",
        "Pavel",
        "pavel_zhodino",
        "Akrestsina",
        "Halina",
        "halina_organises",
        str(olga.id),
        str(pavel.id),
        str(organiser.id),
        str(group.id),
        str(abs(group.id))[3:],
        TOKEN,
    ]
    disk = everything_on_disk(db)
    assert len(disk) > 10_000
    for secret in secrets:
        assert secret.encode() not in disk, secret
        assert secret not in log, secret
    tables = ("conversations", "updates", "outbox", "messages", "vanishing", "handoffs", "subscribers")
    left = rows_about(db, chat_key(pavel.id, "mara"), tables)
    assert left == dict.fromkeys(tables, 0)  # the quick exit left nothing of Pavel
