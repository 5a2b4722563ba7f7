"""`bots db rekey`: a database of 10,000 conversations and some of every other sealed thing
moved to a new key reads the same with it, the old key is refused and finds no chat, and a
refusal or a failure half-way changes nothing. On both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bots.calls import Delivery, Placement
from bots.engine.state import ConversationState, Frame
from bots.privacy.vault import CHAT_KEYS, Vault, new_key, parse_key
from bots.storage import ConversationKey, IncomingUpdate, Opened, OutgoingCall, SQLStore, StoreError, store_at
from bots.storage.admin import columns
from bots.storage.handoffs import Handoff
from bots.storage.outcome import Outcome
from bots.storage.rekey import HASHED, TABLES, rekey
from bots.storage.schema import LATEST, MIGRATIONS
from bots.storage.sql import UPSERT, _state_context

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
PEOPLE = 10_000
BOT = "mara"
MODS = -1001234567890  # the moderators' group


def state_of(person: int) -> ConversationState:
    return ConversationState(
        lang="be",
        step=person % 7,
        stack=[Frame(flow="mara/main", node="story")],
        vars={"city": "Мінск", "person": person, "story": f"что случилось {person} " * 10},
    )


async def seed(store: SQLStore, people: int = PEOPLE) -> None:
    """`people` conversations in one executemany, then a little of everything else through
    the store, filed under the chat keys `bots run` would give."""
    vault = store.vault
    rows = []
    for person in range(1, people + 1):
        key = ConversationKey(BOT, vault.chat_key(BOT, person))
        rows.append((key.bot, key.chat, vault.seal_text(state_of(person).to_json(), _state_context(key)), NOW.timestamp()))
    await store.database.transaction({UPSERT: rows})

    alice, bob = vault.chat_key(BOT, 1), vault.chat_key(BOT, 2)
    mods = vault.chat_key(BOT, MODS)
    await store.record_updates(
        [IncomingUpdate(BOT, n, alice, f'{{"update_id": {n}, "message": {{"text": "привет {n}"}}}}') for n in (5, 3, 9)], now=NOW
    )
    handoff = Handoff(
        id="h1",
        bot=BOT,
        chat=alice,
        alias="K7Q2",
        flow="mara/human",
        node="ask",
        topic="Help: Minsk",
        lang="be",
        application=False,
        mod_chat=mods,
        opened_at=NOW.timestamp(),
        thread=44,
        person=1,
    )
    await store.commit(
        Outcome(
            key=ConversationKey(BOT, alice),
            state=state_of(1),
            update=IncomingUpdate(BOT, 3, alice, "{}"),
            calls=[
                OutgoingCall(
                    "c1", BOT, alice, 0, "sendMessage", {"chat_id": 1, "text": "Прывітанне"}, Delivery(lang="be", vanish=3600.0)
                ),
                OutgoingCall(
                    "c2",
                    BOT,
                    mods,
                    1,
                    "sendMessage",
                    {"chat_id": MODS, "text": "New"},
                    Delivery(quiet=True, handoff=Placement("h1", place="card")),
                ),
            ],
            handoffs=[Opened(handoff)],
            messages=[77, 78],
            counts=[("people", "", 1.0)],
            vanish=(1, 3600.0),
        ),
        now=NOW,
    )
    await store.claim_handoff("h1", "Olga", now=NOW)
    await store.remember_relay(BOT, mods, 901, "h1")
    for person in (1, 2, 3):
        await store.subscribe(BOT, vault.chat_key(BOT, person), person, "be", now=NOW)
    await store.start_broadcast(BOT, "digest1", now=NOW)
    await store.set_blocked(BOT, bob, True, now=NOW)
    await store.remember_file_id(BOT, "docs/a.pdf", "abc", "FILEID")
    await store.set_meta("weekly report mara 2026-W48", b"posted")
    await store.flood_check(BOT, bob, limit=5, window=10.0, pause=30.0, now=NOW.timestamp())


async def contents(store: SQLStore) -> dict[str, Any]:
    """What the bots would read, found by chat id through the store's own vault."""
    vault = store.vault
    alice, mods = vault.chat_key(BOT, 1), vault.chat_key(BOT, MODS)
    states = {str(row[0]): row[1] for row in await store.database.fetchall("SELECT chat, state FROM conversations")}
    opened = {
        person: vault.open_text(
            bytes(states[vault.chat_key(BOT, person)]), _state_context(ConversationKey(BOT, vault.chat_key(BOT, person)))
        )
        for person in range(1, PEOPLE + 1)
    }
    recipients, gone, _ = await store.pending_recipients(BOT, "digest1")
    handoff = await store.handoff("h1")
    return {
        "every state, by chat id": opened,
        "a state through the store": await store.load(ConversationKey(BOT, vault.chat_key(BOT, 4321))),
        "waiting": [(u.update_id, u.payload) for u in await store.unprocessed_updates(BOT, chat=alice)],
        "calls": [
            (c.id, c.params, c.delivery, c.chat == (alice if c.id == "c1" else mods)) for c in await store.pending_calls(BOT)
        ],
        "handoff": handoff
        and (handoff.topic, handoff.claimed_by, handoff.person, handoff.chat == alice, handoff.mod_chat == mods),
        "open handoff of alice": (await store.open_handoff_of(BOT, alice)) is not None,
        "relay": (await store.handoff_by_message(BOT, mods, 901)) is not None,
        "recipients": sorted((r.chat_id, r.lang) for r in recipients) + sorted(gone),
        "subscribed": [await store.is_subscribed(BOT, vault.chat_key(BOT, p)) for p in (1, 2, 3, 4)],
        "messages": await store.recent_messages(BOT, alice, now=NOW),
        "vanishing": [(d.person, d.message_ids) for d in await store.due_vanishing(BOT, now=NOW + dt.timedelta(hours=2))],
        "blocked": await store.is_blocked(BOT, vault.chat_key(BOT, 2)),
        "file": await store.file_id(BOT, "docs/a.pdf", "abc"),
        "counters": await store.counters(BOT),
        "mark": await store.meta("weekly report mara 2026-W48"),
        "redelivery": await store.record_updates([IncomingUpdate(BOT, 3, alice, "{}")], now=NOW),
        "count": await store.count(BOT),
    }


async def every_chat_key(store: SQLStore) -> set[str]:
    found: set[str] = set()
    for table in TABLES:
        for column, _ in await columns(store.database, table):
            if column in HASHED:
                found |= {str(r[0]) for r in await store.database.fetchall(f"SELECT {column} FROM {table}")}
    return found


async def test_ten_thousand_conversations_move_to_the_new_key(location: str) -> None:
    old_master, new_master = parse_key(new_key()), parse_key(new_key())
    async with store_at(location, Vault(old_master)) as store:
        await seed(store)
        before = await contents(store)
    assert len(before["every state, by chat id"]) == PEOPLE and before["waiting"] == [
        (5, before["waiting"][0][1]),
        (9, before["waiting"][1][1]),
    ]
    assert before["handoff"] == ("Help: Minsk", "Olga", 1, True, True) and before["vanishing"] == [(1, (77, 78))]

    done = await rekey(store_at(location, Vault(old_master)), new_master)
    assert done.rows["conversations"] == PEOPLE and done.checked == done.sealed
    # every sealed value: the states, 3 updates (one processed: nothing to seal), 2 calls with
    # their deliveries, the handoff's 3 fields, 3 subscribers, 2 vanishing rows, the key check
    assert done.sealed == PEOPLE + 2 + 4 + 3 + 3 + 2 + 1
    assert done.chats == PEOPLE + 1  # the moderators' group too
    assert f"rekeyed {done.where}" in done.lines()[0] and "checked: all" in done.lines()[2]

    with pytest.raises(StoreError, match="was written with another secret key and cannot be read with this BOTS_SECRET_KEY"):
        await store_at(location, Vault(old_master)).initialize()
    async with store_at(location, Vault(new_master)) as moved:
        assert moved.vault.layers == 1
        assert await contents(moved) == before  # found under the same chat ids, reading the same
        stored = await every_chat_key(moved)
    old = Vault(old_master)
    assert stored and not stored & ({old.chat_key(BOT, person) for person in range(1, PEOPLE + 1)} | {old.chat_key(BOT, MODS)})


async def test_a_second_rotation_finds_the_same_chats_and_the_keys_before_are_refused(location: str) -> None:
    first, second, third = (parse_key(new_key()) for _ in range(3))
    async with store_at(location, Vault(first)) as store:
        await store.save(ConversationKey(BOT, store.vault.chat_key(BOT, 42)), state_of(42), now=NOW)
    await rekey(store_at(location, Vault(first)), second)
    done = await rekey(store_at(location, Vault(second)), third)
    assert done.layers == 2 and "key 3 of this database" in done.lines()[1]
    for master in (first, second):
        with pytest.raises(StoreError, match="another secret key"):
            await store_at(location, Vault(master)).initialize()
    async with store_at(location, Vault(third)) as moved:
        assert moved.vault.layers == 2
        assert await moved.load(ConversationKey(BOT, moved.vault.chat_key(BOT, 42))) == state_of(42)


async def test_refusals_change_nothing(location: str) -> None:
    old_master = parse_key(new_key())
    async with store_at(location, Vault(old_master)) as store:
        await seed(store, people=3)
        key = ConversationKey(BOT, store.vault.chat_key(BOT, 2))
        await store.heartbeat()  # a worker is running
    with pytest.raises(
        StoreError, match=r"1 worker\(s\) said they were alive in the last 10 s .*stop the bots first, or pass --force"
    ):
        await rekey(store_at(location, Vault(old_master)), parse_key(new_key()))
    with pytest.raises(StoreError, match="the new key is the key the database already has"):
        await rekey(store_at(location, Vault(old_master)), old_master)
    with pytest.raises(StoreError, match="the new key is the public development key"):
        await rekey(
            store_at(location, Vault(old_master)),
            parse_key("bots development key -- NOT SECRET: anyone can read what it protects"),
        )
    with pytest.raises(StoreError, match="was written with another secret key"):
        await rekey(store_at(location, Vault(parse_key(new_key()))), parse_key(new_key()))
    async with store_at(location, Vault(old_master)) as store:  # untouched
        assert await store.load(key) == state_of(2)
        assert await store.meta(CHAT_KEYS) is None

    newer = parse_key(new_key())
    done = await rekey(store_at(location, Vault(old_master)), newer, force=True)
    assert done.rows["conversations"] == 3


async def test_a_failure_half_way_leaves_the_database_under_the_old_key(location: str) -> None:
    old_master = parse_key(new_key())
    async with store_at(location, Vault(old_master)) as store:
        await seed(store, people=50)
        before = await contents_small(store)
        # the database itself fails the last table's update, after the others ran (a full disk)
        if store.database.engine == "sqlite":
            await store.database.script(
                "CREATE TRIGGER fail BEFORE UPDATE ON vanishing BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
            )
        else:
            await store.database.script(
                "CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$;"
                "CREATE TRIGGER fail BEFORE UPDATE ON vanishing FOR EACH ROW EXECUTE FUNCTION fail();"
            )
    with pytest.raises(Exception, match="disk full"):
        await rekey(store_at(location, Vault(old_master)), parse_key(new_key()))
    async with store_at(location, Vault(old_master)) as store:
        assert await contents_small(store) == before and await store.meta(CHAT_KEYS) is None


async def contents_small(store: SQLStore) -> dict[str, Any]:
    vault = store.vault
    return {
        "states": [await store.load(ConversationKey(BOT, vault.chat_key(BOT, p))) for p in range(1, 51)],
        "handoff": await store.handoff("h1"),
        "calls": await store.pending_calls(BOT),
    }


async def test_a_sealed_column_unknown_to_rekey_is_refused_before_anything_changes(tmp_path: Path) -> None:
    location, old_master = str(tmp_path / "bots.db"), parse_key(new_key())
    async with store_at(location, Vault(old_master)) as store:
        await seed(store, people=2)
        await store.database.script("ALTER TABLE subscribers ADD COLUMN nickname BLOB;")
    with pytest.raises(StoreError, match=r"column subscribers.nickname is unknown to this bots db rekey.*nothing was changed"):
        await rekey(store_at(location, Vault(old_master)), parse_key(new_key()))
    async with store_at(location, Vault(old_master)) as store:
        assert await store.load(ConversationKey(BOT, store.vault.chat_key(BOT, 2))) == state_of(2)


def test_rekey_knows_every_sealed_column_and_chat_key_of_the_latest_schema() -> None:
    """A schema version adding a sealed column or a chat key must teach rekey about it (else
    rekey refuses such databases): this test fails first."""
    script = "\n".join(MIGRATIONS["sqlite"][:LATEST])
    table, seen = None, set()
    for line in script.splitlines():
        words = line.split()
        if line.startswith("CREATE TABLE"):
            table = words[5] if words[2] == "IF" else words[2]
            continue
        if line.startswith("ALTER TABLE"):
            table, words = words[2], words[5:]
        elif not line.startswith("    ") or not words or words[0] in ("PRIMARY", "UNIQUE"):
            continue
        column, kind = words[0], words[1].rstrip(",;")
        if table != "meta" and (kind == "BLOB" or column in HASHED):
            seen.add(f"{table}.{column}")
            assert table in TABLES, f"{table}.{column}"
            assert kind != "BLOB" or column in TABLES[table].sealed, f"{table}.{column}"
    assert {"conversations.state", "outbox.delivery", "handoffs.mod_chat", "relays.mod_chat", "vanishing.person"} <= seen


def test_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bots.cli import main

    db, old, new = tmp_path / "bots.db", new_key(), new_key()

    async def make() -> None:
        async with store_at(str(db), Vault(parse_key(old))) as store:
            await seed(store, people=20)

    import asyncio

    asyncio.run(make())
    monkeypatch.setenv("BOTS_SECRET_KEY", old)

    def rekey_with(value: str | None, *more: str) -> tuple[int, str, str]:
        if value is None:
            monkeypatch.delenv("NEW_KEY", raising=False)
        else:
            monkeypatch.setenv("NEW_KEY", value)
        code = main(["db", "rekey", "--new-key-env", "NEW_KEY", "--db", str(db), *more])
        out, err = capsys.readouterr()
        return code, out, err

    assert rekey_with(None)[2] == "bots: NEW_KEY is not set: put the new key in it (make one with 'bots keygen')\n"
    code, _, err = rekey_with("password123")
    assert code == 2 and err.startswith("bots: NEW_KEY is too weak") and "set it in NEW_KEY" in err
    code, _, err = rekey_with(old)
    assert code == 1 and "the new key is the key the database already has" in err

    code, out, err = rekey_with(new)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"rekeyed {db} (sqlite) in ") and " rows (20 conversations, 3 updates, 2 outbox, " in lines[0]
    assert lines[1].startswith("re-sealed 35 values under the new key; 21 chat keys moved under it (key 2 of this database")
    assert lines[2] == "checked: all 35 sealed values open with the new key"
    assert lines[3].startswith("next: set BOTS_SECRET_KEY to the new key")

    code, _, err = rekey_with(new_key())  # BOTS_SECRET_KEY still the old one
    assert code == 1 and "was written with another secret key and cannot be read with this BOTS_SECRET_KEY" in err
    monkeypatch.setenv("BOTS_SECRET_KEY", new)
    assert main(["db", "status", "--db", str(db)]) == 0
    assert "key: matches this BOTS_SECRET_KEY" in capsys.readouterr().out


def test_a_trial_database_on_the_development_key_moves_to_a_real_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from bots.cli import main

    db, new = tmp_path / "bots.db", new_key()

    async def make() -> None:
        async with store_at(str(db)) as store:  # the development key
            await store.save(ConversationKey(BOT, store.vault.chat_key(BOT, 7)), state_of(7), now=NOW)

    async def found() -> ConversationState | None:
        async with store_at(str(db), Vault(parse_key(new))) as store:
            return await store.load(ConversationKey(BOT, store.vault.chat_key(BOT, 7)))

    asyncio.run(make())
    monkeypatch.delenv("BOTS_SECRET_KEY", raising=False)
    monkeypatch.setenv("NEW_KEY", new)
    assert main(["db", "rekey", "--new-key-env", "BOTS_SECRET_KEY", "--db", str(db)]) == 2
    assert "BOTS_SECRET_KEY holds the old key" in capsys.readouterr().err
    assert main(["db", "rekey", "--new-key-env", "NEW_KEY", "--db", str(db)]) == 2
    assert "bots db rekey needs a secret key" in capsys.readouterr().err
    assert main(["db", "rekey", "--new-key-env", "NEW_KEY", "--db", str(db), "--insecure-dev"]) == 0
    assert asyncio.run(found()) == state_of(7)
    with pytest.raises(StoreError, match="cannot be read with the development key"):
        asyncio.run(store_at(str(db)).initialize())
