"""Issue 8: the aggregate counters that conversations through `bots run` leave behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.standin import BotApiStandin
from tests.telegram.conftest import escalate


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

    await api.send_text(boris, "/start")
    [menu] = await api.wait_for_messages(boris, 1, timeout=15)
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
