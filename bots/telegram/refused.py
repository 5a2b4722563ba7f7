"""A bot whose token Telegram refuses stops alone; the others in the process go on.

A token revoked in BotFather (401) or an endpoint that is gone (404, PTB's `InvalidToken`
for both) is a fault of one bot, not of the process: that bot stops taking updates, the
operator is told once which variable to fix, and the token is tried again every
`recheck_every` seconds, so that a new token (or Telegram's own mistake mended) resumes
the bot without a restart. Only when no bot is left running does `bots run` end, non-zero.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable

from telegram.error import EndPointNotFound, InvalidToken

log = logging.getLogger(__name__)

#: Telegram's answer to a revoked or unknown token (401) and to a bot that is gone (404);
#: PTB's `do_api_request` (our getUpdates) says EndPointNotFound for either
REFUSED = (InvalidToken, EndPointNotFound)
RECHECK_ENV = "BOTS_TOKEN_RECHECK_SECONDS"
RECHECK_EVERY = 300.0


def recheck_every() -> float:
    """The interval between two tries of a refused token: a few minutes, or the variable's."""
    try:
        return max(0.1, float(os.environ.get(RECHECK_ENV, "") or RECHECK_EVERY))
    except ValueError:
        return RECHECK_EVERY


class TokenRefused(Exception):
    """A bot's token was refused: the message is the one line for the operator."""


class NoBotLeft(Exception):
    """Every bot of the process has its token refused: nothing is left running."""


def refused_line(bot_id: str, env: str) -> str:
    return f"{bot_id}: the token in {env} was refused by Telegram: set a new one from BotFather"


class Refusals:
    """Which bots of the process are stopped for their token, and how they are tried again."""

    def __init__(self, total: int, every: float) -> None:
        self.total = total
        self.every = every
        self.refused: set[str] = set()

    def refuse(self, bot_id: str, env: str) -> None:
        """Log the one line; raise `NoBotLeft` when this was the last bot running."""
        self.refused.add(bot_id)
        if len(self.refused) >= self.total:
            raise NoBotLeft(refused_line(bot_id, env) + " (no bot is left running)")
        log.error("%s; the other bots go on, this one is tried again every %.0fs", refused_line(bot_id, env), self.every)

    async def until_accepted(self, bot_id: str, check: Callable[[], Awaitable[object]]) -> None:
        """Try `check` every `every` seconds until it succeeds; then the bot is running again."""
        while True:
            await asyncio.sleep(self.every)
            try:
                await check()
            except Exception as err:  # noqa: BLE001 - still refused, or Telegram unreachable: the next try
                log.debug("%s: the token is still not accepted (%s)", bot_id, type(err).__name__)
                continue
            break
        self.refused.discard(bot_id)
        log.warning("%s: Telegram accepts the token again: the bot resumes", bot_id)
