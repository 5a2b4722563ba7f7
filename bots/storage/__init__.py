"""Conversation storage: one interface, SQLite by default."""

from __future__ import annotations

import os
from pathlib import Path

from bots.storage.base import ConversationKey, ConversationStore
from bots.storage.handoffs import Closed, Handoff, HandoffChange, HandoffStore, Opened
from bots.storage.journal import DeliveryJournal, IncomingUpdate, OutgoingCall
from bots.storage.sqlite import SQLiteConversationStore, StoreError
from bots.vault import Vault

DEFAULT_DB = "bots.db"

__all__ = [
    "DEFAULT_DB",
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
    "SQLiteConversationStore",
    "StoreError",
    "database_path",
    "open_store",
]


def database_path(option: str | None) -> Path:
    """`--db`, else `BOTS_DB`, else `bots.db` in the working directory."""
    return Path(option or os.environ.get("BOTS_DB") or DEFAULT_DB)


def open_store(option: str | None = None, vault: Vault | None = None) -> SQLiteConversationStore:
    return SQLiteConversationStore(database_path(option), vault=vault)
