"""Schema versions: a fresh database is made at the latest, an older one is upgraded only
when asked, a newer one is refused; on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from bots.engine.state import ConversationState
from bots.storage import ConversationKey, SQLStore, StoreError, store_at
from bots.storage.admin import status, upgrade
from bots.storage.schema import LATEST, MIGRATIONS, VERSION_NAME

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
KEY = ConversationKey("mara", "chat-1")


async def test_a_fresh_database_is_created_at_the_latest_version(location: str) -> None:
    async with store_at(location) as store:
        assert await store.schema_version() == LATEST
        assert await store.meta(VERSION_NAME) == str(LATEST).encode()


async def make_version_1(location: str) -> None:
    """A database as the previous release left it: the first schema, no version recorded,
    the key check and one conversation in it (written with the store's own statements)."""
    from bots.storage.sql import KEY_CHECK, UPSERT, _state_context

    raw = store_at(location)
    await raw.database.open()
    await raw.database.script(MIGRATIONS[raw.database.engine][0])
    sealed = raw.vault.seal_text(ConversationState(lang="be", step=7).to_json(), _state_context(KEY))
    await raw.database.transaction(
        {
            "INSERT INTO meta (name, value) VALUES (?, ?)": [(KEY_CHECK, raw.vault.seal(b"ok", KEY_CHECK))],
            UPSERT: [(KEY.bot, KEY.chat, sealed, NOW.timestamp())],
        }
    )
    await raw.database.close()


async def test_an_older_database_is_refused_until_upgraded_and_keeps_its_data(location: str) -> None:
    await make_version_1(location)
    with pytest.raises(
        StoreError, match=rf"schema version 1, this version of bots needs {LATEST}: back it up, then run 'bots db upgrade'"
    ):
        await store_at(location).initialize()
    assert (await status(store_at(location))).version == 1
    assert await upgrade(store_at(location)) == (1, LATEST)
    async with store_at(location) as store:
        assert await store.schema_version() == LATEST
        loaded = await store.load(KEY)
        assert loaded is not None and loaded.step == 7 and loaded.lang == "be"
        await store.heartbeat()  # what version 2 brought works
        assert await store.take_lease("poll mara", ttl=5)


async def test_a_newer_database_is_refused(location: str) -> None:
    async with store_at(location) as store:
        await store.set_meta(VERSION_NAME, str(LATEST + 1).encode())
    with pytest.raises(StoreError, match=rf"schema version {LATEST + 1}, newer than this version of bots knows \({LATEST}\)"):
        await store_at(location).initialize()
    with pytest.raises(StoreError, match="newer"):
        await store_at(location).initialize(upgrade=True)


async def test_status_says_what_is_there(store: SQLStore, location: str) -> None:
    await store.save(KEY, ConversationState(lang="en"), now=NOW)
    await store.heartbeat()
    await store.take_lease("tidy", ttl=30)
    found = await status(store_at(location))
    text = "\n".join(found.lines())
    assert f"schema: version {LATEST}, up to date" in text
    assert "key: the public development key" in text
    assert "1 conversations" in text
    assert "workers alive: 1" in text and f"tidy: {store.worker}" in text


async def test_calls_journalled_with_markers_in_their_params_are_still_sent_after_an_upgrade(location: str) -> None:
    """Before version 4 a call's delivery rode inside its params (`_quiet`, `_handoff`, ...):
    such a row, left unsent by the old version, comes back with clean params and its Delivery."""
    from bots.calls import Delivery, Placement
    from bots.storage.sql import _call_context

    store = store_at(location)
    await store.database.open()
    for script in MIGRATIONS[store.database.engine][:3]:
        await store.database.script(script)
    old = {"chat_id": 42, "text": "card", "_handoff": "h1", "_place": "card", "_in_topic": True, "_quiet": True, "_lang": "be"}
    await store.database.transaction(
        {
            "INSERT INTO meta (name, value) VALUES (?, ?)": [(VERSION_NAME, b"3")],
            "INSERT INTO outbox (id, bot, chat, seq, method, params, created_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)": [
                (
                    "old-1",
                    "mara",
                    "mods",
                    0,
                    "sendMessage",
                    store.vault.seal_json(old, _call_context("old-1")),
                    NOW.timestamp(),
                    None,
                )
            ],
        }
    )
    await store.database.close()
    assert await upgrade(store_at(location)) == (3, LATEST)
    async with store_at(location) as upgraded:
        [call] = await upgraded.adopt_calls("mara", everything=True)
    assert call.params == {"chat_id": 42, "text": "card"}
    assert call.delivery == Delivery(quiet=True, lang="be", handoff=Placement("h1", place="card", in_topic=True))
