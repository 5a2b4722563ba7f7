"""Short pseudonyms that stand in for a person in logs: never a raw Telegram id."""

from __future__ import annotations

import hashlib
import hmac
import secrets


class Pseudonyms:
    """`p-3f9a1c` for a chat, per bot, keyed so that the id cannot be recovered from it.

    Without a key the pseudonyms change with every start of the process.
    """

    def __init__(self, bot_id: str, key: bytes | None = None) -> None:
        self.key = hmac.new(key or secrets.token_bytes(32), bot_id.encode(), hashlib.sha256).digest()

    def of(self, chat: str | int) -> str:
        digest = hmac.new(self.key, str(chat).encode(), hashlib.sha256).hexdigest()
        return f"p-{digest[:8]}"
