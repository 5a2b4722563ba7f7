"""The stand-in's bot registry, fault injection and introspection, for tests and benchmarks.

`BotApiStandin` (control.py) builds on this: it adds the people, groups and what they do.
"""

from __future__ import annotations

from typing import Any

from bots.testing.standin.faults import Call, Fault
from bots.testing.standin.model import Group, Person
from bots.testing.standin.server import StandinServer
from bots.testing.standin.world import BotState

Chat = Person | Group
BotRef = str | int | BotState | None


class FaultControl(StandinServer):
    """Which bot an argument names; faults, rate limits and the call log."""

    def bot(self, bot: BotRef = None) -> BotState:
        """The registered bot for a token / user id / BotState (or the only one)."""
        if isinstance(bot, BotState):
            return bot
        if bot is None:
            if len(self.world.bots) != 1:
                raise ValueError("several bots are registered: say which (token or id)")
            return next(iter(self.world.bots.values()))
        state = self.world.bots.get(bot) if isinstance(bot, str) else self.world.bots_by_id.get(bot)
        if state is None:
            raise ValueError("unknown bot")
        return state

    # -- faults, limits, introspection ------------------------------------------------------------
    def _chat_key(self, chat: Chat | int | str | None) -> int | str | None:
        return chat.id if isinstance(chat, (Person, Group)) else chat

    def fail_next(
        self,
        method: str,
        *,
        chat: Chat | int | str | None = None,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int | None = 1,
        bot: BotRef = None,
        delay: float = 0.0,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` ("*" for any), optionally only those for
        ``chat``, fail with ``status`` (Telegram's wording unless ``description``).

        429 answers carry ``parameters.retry_after`` (default 1). ``times=None``: until cleared.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        return self.faults.add(
            Fault(
                method.lower(),
                status,
                description,
                retry_after,
                times,
                self._chat_key(chat),
                None if bot is None else self.bot(bot).id,
                delay,
            )
        )

    def delay(
        self, method: str, seconds: float, *, chat: Chat | int | str | None = None, times: int | None = 1, bot: BotRef = None
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` normally but ``seconds`` late."""
        return self.faults.add(
            Fault(
                method.lower(), None, None, None, times, self._chat_key(chat), None if bot is None else self.bot(bot).id, seconds
            )
        )

    def clear_faults(self, method: str | None = None) -> None:
        """Remove injected faults (all, or those of one method)."""
        self.faults.clear(method)

    def rate_limits(
        self,
        per_bot_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = None,
    ) -> None:
        """Enforce Telegram-like flood limits on sending methods with 429s (all None: off)."""
        self.rate.configure(per_bot_per_second, per_chat_per_second, per_group_per_minute)

    @property
    def calls(self) -> list[Call]:
        """Recent Bot API calls received, oldest first (each unpacks as ``method, params``)."""
        return list(self.call_log.calls) if self.call_log.enabled else []

    def calls_to(self, method: str) -> list[Call]:
        """Recent calls of one method (case-insensitive)."""
        low = method.lower()
        return [c for c in self.calls if c.method.lower() == low]

    def webhook_info(self, bot: BotRef = None) -> dict[str, Any]:
        """What getWebhookInfo would answer for the bot."""
        return self.bot(bot).queue.info()

    def stats(self) -> dict[str, Any]:
        """Counters for benchmarks: requests, calls, per-bot updates created/pending/delivered."""
        return {
            "requests": self.requests,
            "calls": self.call_log.total,
            "chats": len(self.world.chats),
            "bots": {
                str(b.id): {
                    "created": b.queue.created,
                    "pending": b.queue.pending_count,
                    "delivered": b.queue.webhook.delivered if b.queue.webhook else None,
                }
                for b in self.world.bots.values()
            },
        }
