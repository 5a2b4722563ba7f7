"""What `bots run` forgets on its own: idle conversations past retention, old journal records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bots.engine.state import ConversationState
from bots.loader import load_project
from bots.storage import (
    Closed,
    ConversationKey,
    Handoff,
    IncomingUpdate,
    Opened,
    SQLiteConversationStore,
)
from bots.storage.outcome import Outcome
from bots.telegram.housekeeping import tidy_once
from tests.support.project import add_to_bot_yaml, write_project

FLOW = """\
start: hi
nodes:
  hi:
    type: end
    text: "Hi."
"""
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


async def test_conversations_idle_past_retention_days_are_forgotten(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"flows/demo/main.yaml": FLOW})
    add_to_bot_yaml(root, "retention_days: 7\n")
    project, diagnostics = load_project(root)
    assert not diagnostics.errors
    async with SQLiteConversationStore(tmp_path / "t.db") as store:
        old, recent = ConversationKey("demo", "old"), ConversationKey("demo", "recent")
        await store.save(old, ConversationState(lang="en"), now=NOW - dt.timedelta(days=8))
        await store.save(recent, ConversationState(lang="en"), now=NOW - dt.timedelta(days=6))
        update = IncomingUpdate("demo", 1, "recent", "{}")
        await store.record_updates([update], now=NOW - dt.timedelta(hours=30))
        await store.commit(Outcome(update=update), now=NOW)
        assert await tidy_once(store, project, ["demo"], NOW) == 1
        assert await store.load(old) is None
        assert await store.load(recent) is not None
        assert await store.record_updates([update], now=NOW) == [update]  # the old record is gone too


async def test_handoffs_closed_past_retention_days_are_forgotten_with_their_relays(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"flows/demo/main.yaml": FLOW})
    add_to_bot_yaml(root, "retention_days: 7\n")
    project, _ = load_project(root)
    async with SQLiteConversationStore(tmp_path / "t.db") as store:

        def handoff(hid: str, days_ago: int) -> Handoff:
            return Handoff(
                hid,
                "demo",
                "42",
                "K7Q2",
                "demo/main",
                "hi",
                "Topic",
                "en",
                False,
                "-1001",
                (NOW - dt.timedelta(days=days_ago)).timestamp(),
            )

        changes = [Opened(handoff("old", 9)), Opened(handoff("new", 9)), Opened(handoff("open", 9))]
        await store.commit(Outcome(handoffs=changes), now=NOW)
        await store.commit(
            Outcome(
                handoffs=[
                    Closed("old", "moderator", NOW - dt.timedelta(days=8)),
                    Closed("new", "person", NOW - dt.timedelta(days=1)),
                ]
            ),
            now=NOW,
        )
        await store.remember_relay("demo", "-1001", 5, "old")
        await tidy_once(store, project, ["demo"], NOW)
        assert await store.handoff("old") is None and await store.relayed_messages("old") == []
        assert await store.handoff("new") is not None
        assert (await store.handoff("open")) == (await store.open_handoff_of("demo", "42"))
