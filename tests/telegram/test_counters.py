"""Issue 8: the aggregate counters that conversations through `bots run` leave behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.testing.standin import BotApiStandin
from tests.support.standin import escalate, greeting


def counters(db: Path) -> dict[tuple[str, str], float]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, key, SUM(value) FROM counters WHERE bot = 'demo' GROUP BY name, key").fetchall()
    return {(name, key): value for name, key, value in rows}


async def test_counters_add_up_and_name_nobody(api: BotApiStandin, desk, tmp_path: Path) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    bot = await desk(group.id).start()
    alice, boris = api.user("Alice"), api.user("Boris", language_code="ru")
    await escalate(api, alice)
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    await api.send_text(anna, "Hello, how can we help?", chat=group, topic=topic)
    await api.send_text(anna, "A second answer", chat=group, topic=topic)
    await api.wait_for_messages(alice, 2, timeout=10)
    await api.send_text(anna, "/close", chat=group, topic=topic)
    await api.wait_for_messages(alice, 2, timeout=10)
    await api.send_text(alice, "/start")  # the same person again the same day: still one person
    await api.wait_for_messages(alice, 1, timeout=10)

    menu = await greeting(api, boris)
    await api.press(boris, menu, "Apply")
    await api.wait_for_messages(boris, 1, timeout=10)
    card_topic = await api.wait_until(lambda: next((t for t in api.topics(group) if t is not topic), None), timeout=10)
    [card] = await api.wait_for_messages(group, 1, topic=card_topic, timeout=10)
    await api.press(anna, card, "Accept")
    await api.wait_for_messages(boris, 1, timeout=10)
    await api.send_text(boris, "/subscribe")
    await api.wait_for_messages(boris, 2, timeout=10)
    code, errors = await bot.stop()
    assert code == 0, errors

    found = counters(tmp_path / "bots.db")
    assert found[("people", "")] == 2
    assert found[("language", "en")] == 1 and found[("language", "ru")] == 1
    assert found[("handoff_opened", "")] == 2
    assert found[("handoff_answered", "")] == 1  # the first reply only
    assert found[("first_response_bucket", "15m")] == 1
    assert found[("handoff_closed", "closed")] == 1 and found[("handoff_closed", "accepted")] == 1
    assert found[("outcome", "accepted")] == 1
    assert found[("subscribed", "")] == 1
    assert found[("node", "demo/main:menu")] == 4  # Alice twice, Boris at /start and after /subscribe
    assert found[("node", "demo/main:human")] == 1
    assert 0 <= found[("first_response_seconds", "")] < 60 and 0 <= found[("closing_seconds", "")] < 120
    with sqlite3.connect(tmp_path / "bots.db") as conn:
        keys = {row[0] for row in conn.execute("SELECT key FROM counters")}
    assert not any(str(who.id) in key or who.first_name in key for who in (alice, boris, anna) for key in keys)


async def test_the_weekly_summary_is_posted_to_the_moderators_once(
    api: BotApiStandin, desk, desk_project: Path, tmp_path: Path
) -> None:
    import datetime as dt

    from bots.report import last_complete_week
    from tests.support.project import add_to_bot_yaml
    from tests.support.store import keyed_store

    add_to_bot_yaml(desk_project, "weekly_report: true\n")
    week = last_complete_week()
    async with keyed_store(tmp_path / "bots.db") as store:
        monday = dt.datetime.combine(week.since, dt.time(12), tzinfo=dt.timezone.utc)
        await store.add_counts("demo", [("people", "", 1234.0), ("handoff_opened", "", 56.0)], now=monday)
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    bot = await desk(group.id).start()
    summary = await api.wait_until(
        lambda: next((m for m in api.messages(group) if m.text and "1,234" in m.text), None), timeout=15
    )
    assert "56" in summary.text
    code, errors = await bot.stop()
    assert code == 0, errors
    again = await desk(group.id).start()  # a restart does not post it twice
    who = api.user("Vera")
    await api.send_text(who, "/start")
    await api.wait_for_messages(who, 1, timeout=15)
    await again.stop()
    assert sum("1,234" in (m.text or "") for m in api.messages(group)) == 1


async def test_a_subscriber_gets_the_news_in_the_language_they_chose_last(api: BotApiStandin, running, tmp_path: Path) -> None:
    bot = await running("--pace", "off").start()
    yana = api.user("Yana", language_code="en")
    await api.send_text(yana, "/start")
    await api.wait_for_messages(yana, 1, timeout=15)
    await api.send_text(yana, "/subscribe")
    await api.wait_for_messages(yana, 2, timeout=10)
    await api.send_text(yana, "/language")
    [menu] = await api.wait_for_messages(yana, 1, timeout=10)
    await api.press(yana, menu, "Русский")
    await api.wait_for_messages(yana, 2, timeout=10)
    code, errors = await bot.stop()
    assert code == 0, errors
    with sqlite3.connect(tmp_path / "bots.db") as conn:
        assert conn.execute("SELECT lang FROM subscribers WHERE bot = 'demo'").fetchall() == [("ru",)]
