"""`bots db copy`: a deployment moved from SQLite to PostgreSQL and back holds the same, opens
with the same key only, and an occupied target is never overwritten."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from bots.engine.state import ConversationState
from bots.privacy.vault import Vault, new_key, parse_key
from bots.storage import ConversationKey, IncomingUpdate, Opened, OutgoingCall, SQLStore, StoreError, store_at
from bots.storage.admin import copy
from bots.storage.handoffs import Handoff
from bots.storage.outcome import Outcome
from bots.storage.schema import LATEST
from tests.support.commands import run_bots

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
KEY = ConversationKey("mara", "chat-1")


async def fill(store: SQLStore) -> None:
    """A little of everything a running deployment keeps."""
    await store.record_updates([IncomingUpdate("mara", n, KEY.chat, f'{{"update_id": {n}}}') for n in (5, 3, 9)], now=NOW)
    handoff = Handoff(
        id="h1",
        bot="mara",
        chat=KEY.chat,
        alias="K7Q2",
        flow="mara/human",
        node="ask",
        topic="Help: Minsk",
        lang="be",
        application=False,
        mod_chat="mods",
        opened_at=NOW.timestamp(),
        thread=44,
        person=123456789,
    )
    await store.commit(
        Outcome(
            key=KEY,
            state=ConversationState(lang="be", step=4, vars={"city": "Мінск"}),
            update=IncomingUpdate("mara", 3, KEY.chat, "{}"),
            calls=[OutgoingCall("c1", "mara", KEY.chat, 0, "sendMessage", {"chat_id": 123456789, "text": "Прывітанне"})],
            handoffs=[Opened(handoff)],
            messages=[77],
            counts=[("people", "", 1.0), ("node", "mara/main:menu", 2.0)],
        ),
        now=NOW,
    )
    await store.subscribe("mara", KEY.chat, 123456789, "be", now=NOW)
    await store.remember_relay("mara", "mods", 901, "h1")
    await store.remember_file_id("mara", "docs/a.pdf", "abc", "FILEID")
    await store.set_blocked("mara", "chat-2", True, now=NOW)


async def contents(store: SQLStore) -> dict[str, object]:
    handoff = await store.handoff("h1")
    return {
        "state": await store.load(KEY),
        "waiting": [u.update_id for u in await store.unprocessed_updates("mara")],
        "calls": await store.pending_calls("mara"),
        "handoff": handoff,
        "relay": await store.handoff_by_message("mara", "mods", 901),
        "subscribers": await store.subscribers_by_lang("mara"),
        "counters": await store.counters("mara"),
        "messages": await store.recent_messages("mara", KEY.chat, now=NOW),
        "file": await store.file_id("mara", "docs/a.pdf", "abc"),
        "blocked": await store.is_blocked("mara", "chat-2"),
        "redelivery": await store.record_updates([IncomingUpdate("mara", 3, KEY.chat, "{}")], now=NOW),
    }


async def test_sqlite_to_postgresql_and_back_keeps_everything(tmp_path: Path, postgres_url: str) -> None:
    vault = Vault(parse_key(new_key()))
    source = str(tmp_path / "bots.db")
    async with store_at(source, vault) as store:
        await fill(store)
        before = await contents(store)
    assert before["waiting"] == [5, 9] and before["state"] is not None

    copied = await copy(store_at(source, vault), store_at(postgres_url, vault))
    assert copied["conversations"] == 1 and copied["updates"] == 3 and copied["outbox"] == 1
    async with store_at(postgres_url, vault) as moved:
        assert await contents(moved) == before  # in order: the waiting updates as they came

    back = str(tmp_path / "back.db")
    await copy(store_at(postgres_url, vault), store_at(back, vault))
    async with store_at(back, vault) as returned:
        assert await contents(returned) == before

    # only the key it was made with opens the copy
    with pytest.raises(StoreError, match="another secret key"):
        await store_at(postgres_url, Vault(parse_key(new_key()))).initialize()


async def test_a_target_that_holds_anything_is_refused(tmp_path: Path, location: str) -> None:
    source = str(tmp_path / "source.db")
    async with store_at(source) as store:
        await fill(store)
    async with store_at(location) as target:
        await target.save(ConversationKey("kotos", "someone"), ConversationState(lang="ru"), now=NOW)
    with pytest.raises(StoreError, match="already holds data: bots db copy fills only an empty database"):
        await copy(store_at(source), store_at(location))
    async with store_at(location) as target:  # untouched
        assert await target.count("mara") == 0 and await target.count("kotos") == 1


def test_the_command_copies_and_refuses(tmp_path: Path, postgres_url: str) -> None:
    source = tmp_path / "bots.db"
    import asyncio

    async def make() -> None:
        async with store_at(str(source)) as store:
            await fill(store)

    asyncio.run(make())

    def bots(*args: str) -> subprocess.CompletedProcess[str]:
        return run_bots("db", *args, "--insecure-dev", cwd=tmp_path)

    done = bots("copy", str(source), postgres_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"copied {source} to {postgres_url} (schema version {LATEST}): ")
    again = bots("copy", str(source), postgres_url)
    assert again.returncode == 1
    assert "already holds data" in again.stderr
    status = bots("status", "--db", postgres_url)
    assert "1 conversations" in status.stdout and "updates waiting to be processed: 2" in status.stdout
