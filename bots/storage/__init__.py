"""Conversation storage: one interface, two engines (SQLite by default, PostgreSQL to share)."""

from __future__ import annotations

import os
from pathlib import Path

from bots.privacy.vault import Vault
from bots.storage.base import ConversationKey, ConversationStore
from bots.storage.database import is_postgres_url, redacted
from bots.storage.handoffs import Closed, Handoff, HandoffChange, HandoffStore, Opened
from bots.storage.journal import DeliveryJournal, IncomingUpdate, OutgoingCall
from bots.storage.outcome import Outcome, Subscribed
from bots.storage.sql import SQLStore, StoreError
from bots.storage.sqlite import SQLiteConversationStore

DEFAULT_DB = "bots.db"
URL_ENV = "BOTS_DATABASE_URL"

__all__ = [
    "DEFAULT_DB",
    "URL_ENV",
    "Closed",
    "Handoff",
    "HandoffChange",
    "HandoffStore",
    "Opened",
    "ConversationKey",
    "ConversationStore",
    "DeliveryJournal",
    "IncomingUpdate",
    "OutgoingCall",
    "Outcome",
    "Subscribed",
    "SQLStore",
    "SQLiteConversationStore",
    "StoreError",
    "database_location",
    "redacted",
    "database_path",
    "open_store",
    "store_at",
]


def database_location(option: str | None) -> str:
    """Where the database is: `--db` (a file or a postgresql:// URL), else
    `BOTS_DATABASE_URL`, else `BOTS_DB`, else `bots.db` in the working directory."""
    return option or os.environ.get(URL_ENV) or os.environ.get("BOTS_DB") or DEFAULT_DB


def database_path(option: str | None) -> Path:
    """The SQLite file, for what works on files only (`--db`, else `BOTS_DB`, else `bots.db`)."""
    return Path(option or os.environ.get("BOTS_DB") or DEFAULT_DB)


def store_at(location: str, vault: Vault | None = None) -> SQLStore:
    """The store for a location: a postgresql:// URL or a SQLite file."""
    if is_postgres_url(location):
        from bots.storage.postgres import PostgresConversationStore

        return PostgresConversationStore(location, vault=vault)
    return SQLiteConversationStore(Path(location), vault=vault)


def open_store(option: str | None = None, vault: Vault | None = None) -> SQLStore:
    return store_at(database_location(option), vault)
