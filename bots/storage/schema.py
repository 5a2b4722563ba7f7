"""The database's shape, as numbered migrations for each engine.

A database records the version it has (`meta` row `schema version`). A fresh database is
created at the latest version; an older one is brought up to date only by `bots db upgrade`
(`bots run` refuses it with a line saying so), and one newer than this code is refused. A
SQLite file written before versions were recorded, but holding the tables, is version 1.

Both engines have the same versions with the same meaning; only the column types and the
arrival-order column differ (SQLite's implicit `rowid`, PostgreSQL's `arrival` identity).
"""

from __future__ import annotations

VERSION_NAME = "schema version"

_SQLITE_V1 = """
CREATE TABLE IF NOT EXISTS conversations (
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    state      BLOB NOT NULL,       -- sealed (see bots.privacy.vault)
    updated_at REAL NOT NULL,
    PRIMARY KEY (bot, chat)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversations_idle ON conversations (bot, updated_at);
CREATE TABLE IF NOT EXISTS updates (
    bot         TEXT NOT NULL,
    update_id   INTEGER NOT NULL,
    chat        TEXT NOT NULL,
    payload     BLOB,               -- the update, sealed, until it is processed; then NULL
    received_at REAL NOT NULL,
    UNIQUE (bot, update_id)
);
CREATE INDEX IF NOT EXISTS updates_waiting ON updates (bot) WHERE payload IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox (
    id         TEXT PRIMARY KEY,
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    method     TEXT NOT NULL,
    params     BLOB NOT NULL,       -- sealed
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_chat ON outbox (bot, chat);
CREATE TABLE IF NOT EXISTS blocked_chats (
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    blocked_at REAL NOT NULL,
    PRIMARY KEY (bot, chat)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (
    bot     TEXT NOT NULL,
    path    TEXT NOT NULL,
    digest  TEXT NOT NULL,
    file_id TEXT NOT NULL,
    PRIMARY KEY (bot, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS handoffs (
    id             TEXT PRIMARY KEY,
    bot            TEXT NOT NULL,
    chat           TEXT NOT NULL,
    alias          TEXT NOT NULL,
    flow           TEXT NOT NULL,
    node           TEXT NOT NULL,
    topic          BLOB NOT NULL,       -- sealed: it may quote answers
    lang           TEXT NOT NULL,
    application    INTEGER NOT NULL,
    mod_chat       TEXT NOT NULL,
    opened_at      REAL NOT NULL,
    thread         INTEGER,
    card           INTEGER,
    first_reply_at REAL,
    claimed_by     BLOB,                -- sealed: a moderator's first name
    claimed_at     REAL,
    closed_at      REAL,
    closed_by      TEXT,
    person         BLOB NOT NULL        -- sealed: the person's chat id
);
CREATE INDEX IF NOT EXISTS handoffs_person ON handoffs (bot, chat) WHERE closed_at IS NULL;
CREATE INDEX IF NOT EXISTS handoffs_thread ON handoffs (bot, mod_chat, thread);
CREATE TABLE IF NOT EXISTS relays (
    bot        TEXT NOT NULL,
    mod_chat   TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    handoff    TEXT NOT NULL,
    PRIMARY KEY (bot, mod_chat, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relays_handoff ON relays (handoff);
CREATE TABLE IF NOT EXISTS messages (
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    at         REAL NOT NULL,
    PRIMARY KEY (bot, chat, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_age ON messages (at);
CREATE TABLE IF NOT EXISTS counters (
    bot   TEXT NOT NULL,
    day   TEXT NOT NULL,
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (bot, day, name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscribers (
    bot    TEXT NOT NULL,
    chat   TEXT NOT NULL,       -- the chat's keyed hash (bots.privacy.vault)
    person BLOB NOT NULL,       -- sealed: the chat id, to send the news to
    lang   TEXT NOT NULL,
    since  REAL NOT NULL,
    PRIMARY KEY (bot, chat)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS broadcasts (
    bot         TEXT NOT NULL,
    digest      TEXT NOT NULL,  -- SHA-256 of the news file: which message
    started_at  REAL NOT NULL,
    finished_at REAL,
    total       INTEGER NOT NULL,
    owner       TEXT,           -- the process sending it now (host:pid:random), or NULL
    alive_at    REAL,           -- the owner's last sign of life
    sent        INTEGER NOT NULL DEFAULT 0,  -- the counts, written when it finishes
    blocked     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    crashed     INTEGER NOT NULL DEFAULT 0,  -- in flight when a run died: maybe delivered, not resent
    unsure      INTEGER NOT NULL DEFAULT 0,  -- a network error after sending: maybe delivered, not resent
    gone        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
    bot    TEXT NOT NULL,
    digest TEXT NOT NULL,
    chat   TEXT NOT NULL,       -- the chat's keyed hash; nothing else about the person
    status TEXT NOT NULL,       -- pending, sending, sent, blocked, failed, unsure, gone
    PRIMARY KEY (bot, digest, chat)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries (bot, digest, status);
"""

# Version 2: several workers on one database. A worker announces itself (`workers`) and
# owns the calls it journalled (`outbox.owner`) until it dies; a lease (`leases`) makes one
# worker the poller of a bot or the runner of a periodic job.
_V2_TABLES = """
CREATE TABLE IF NOT EXISTS workers (
    id         TEXT PRIMARY KEY,    -- host:pid:random
    started_at {real} NOT NULL,
    alive_at   {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name  TEXT PRIMARY KEY,         -- e.g. "poll mara", "tidy"
    owner TEXT NOT NULL,            -- a worker id
    until {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS flood (  -- flood control shared by the workers (see bots.telegram.flood)
    bot     TEXT NOT NULL,
    chat    TEXT NOT NULL,              -- the chat's keyed hash
    times   TEXT NOT NULL,              -- the latest update times (at most the limit + 1), JSON
    until   {real} NOT NULL,            -- paused until then
    seen_at {real} NOT NULL,            -- forgotten once idle for longer than the window and the pause
    PRIMARY KEY (bot, chat)
);
CREATE INDEX IF NOT EXISTS updates_chat ON updates (bot, chat) WHERE payload IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_owner ON outbox (bot, owner);
"""

_SQLITE_V2 = "ALTER TABLE outbox ADD COLUMN owner TEXT;\n" + _V2_TABLES.format(real="REAL")

# Version 3: vanishing chats. The messages of a chat that vanishes, each with when it is to
# be deleted; the chat id is sealed (the chat itself is its keyed hash), and a row is gone
# once its deletion is journalled (see bots.storage.sql_vanish).
_SQLITE_V3 = """
CREATE TABLE IF NOT EXISTS vanishing (
    bot        TEXT NOT NULL,
    chat       TEXT NOT NULL,       -- the chat's keyed hash (bots.privacy.vault)
    message_id INTEGER NOT NULL,
    delete_at  REAL NOT NULL,
    person     BLOB NOT NULL,       -- sealed: the chat id, to delete in
    PRIMARY KEY (bot, chat, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vanishing_due ON vanishing (bot, delete_at);
"""


def _postgres(sqlite: str) -> str:
    """The SQLite DDL in PostgreSQL's types (same tables, columns and indexes)."""
    text = sqlite.replace(") WITHOUT ROWID;", ");")
    for old, new in (
        (" BLOB", " BYTEA"),
        (" REAL", " DOUBLE PRECISION"),
        (" INTEGER", " BIGINT"),
    ):
        text = text.replace(old, new)
    return text


_POSTGRES_V1 = (
    _postgres(_SQLITE_V1)
    .replace(
        "CREATE TABLE IF NOT EXISTS updates (\n",
        "CREATE TABLE IF NOT EXISTS updates (\n    arrival     BIGINT GENERATED ALWAYS AS IDENTITY,\n",
    )
    .replace(
        "CREATE TABLE IF NOT EXISTS outbox (\n",
        "CREATE TABLE IF NOT EXISTS outbox (\n    arrival    BIGINT GENERATED ALWAYS AS IDENTITY,\n",
    )
)
# One update's flood verdict in one round trip, atomic among workers (the row is locked):
# the rule of `bots.storage.flood.decide`, which a test runs against this on the same inputs.
_POSTGRES_FLOOD = """
CREATE OR REPLACE FUNCTION bots_flood(p_bot TEXT, p_chat TEXT, p_now DOUBLE PRECISION,
                                      p_limit INTEGER, p_window DOUBLE PRECISION, p_pause DOUBLE PRECISION)
RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    kept DOUBLE PRECISION[];
    paused DOUBLE PRECISION;
    verdict TEXT := 'allow';
BEGIN
    INSERT INTO flood (bot, chat, times, until, seen_at) VALUES (p_bot, p_chat, '[]', 0, p_now)
        ON CONFLICT (bot, chat) DO NOTHING;
    SELECT COALESCE(ARRAY(SELECT value::DOUBLE PRECISION FROM json_array_elements_text(times::json)), '{}'), until
        INTO kept, paused FROM flood WHERE bot = p_bot AND chat = p_chat FOR UPDATE;
    kept := COALESCE(ARRAY(SELECT t FROM unnest(kept) AS t WHERE p_now - t < p_window), '{}');
    IF p_now < paused THEN
        verdict := 'drop';
    ELSE
        kept := kept || p_now;
        IF cardinality(kept) > p_limit THEN
            IF p_now - kept[1] < p_window THEN
                kept := '{}';
                paused := p_now + p_pause;
                verdict := 'warn';
            ELSE
                kept := kept[2:];
            END IF;
        END IF;
    END IF;
    UPDATE flood SET times = array_to_json(kept)::TEXT, until = paused, seen_at = p_now
        WHERE bot = p_bot AND chat = p_chat;
    RETURN verdict;
END;
$$;
"""
_POSTGRES_V2 = (
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS owner TEXT;\n" + _V2_TABLES.format(real="DOUBLE PRECISION") + _POSTGRES_FLOOD
)
_POSTGRES_V3 = _postgres(_SQLITE_V3)

#: engine -> the scripts that bring a database from version N-1 to N, for N = 1, 2, ...
# Version 4: how a call is delivered (bots.calls.Delivery), sealed in a column of its own
# instead of markers inside its params; rows without it are read the old way.
_SQLITE_V4 = "ALTER TABLE outbox ADD COLUMN delivery BLOB;  -- sealed JSON\n"
_POSTGRES_V4 = "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS delivery BYTEA;\n"

MIGRATIONS: dict[str, list[str]] = {
    "sqlite": [_SQLITE_V1, _SQLITE_V2, _SQLITE_V3, _SQLITE_V4],
    "postgresql": [_POSTGRES_V1, _POSTGRES_V2, _POSTGRES_V3, _POSTGRES_V4],
}

LATEST = len(MIGRATIONS["sqlite"])
if any(len(steps) != LATEST for steps in MIGRATIONS.values()):  # pragma: no cover - caught by every test
    raise RuntimeError("every engine must have every schema version")

#: what each version brought, for `bots db status`
NOTES = {
    1: "conversations, journal, handoffs, messages, counters, news",
    2: "several workers: worker heartbeats, leases, call owners, shared flood control",
    3: "vanishing chats: messages to delete once they are old enough",
    4: "how each unsent call is delivered, typed and sealed in its own column",
}

#: every table, in the order `bots db copy` fills them
TABLES = (
    "meta",
    "conversations",
    "updates",
    "outbox",
    "blocked_chats",
    "files",
    "handoffs",
    "relays",
    "messages",
    "counters",
    "subscribers",
    "broadcasts",
    "deliveries",
    "workers",
    "leases",
    "flood",
    "vanishing",
)
