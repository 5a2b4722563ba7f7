"""Long polling: one worker polls each bot (the holder of its lease, see `housekeeping`)."""

from __future__ import annotations

import asyncio
import logging

from telegram.error import Conflict, NetworkError, RetryAfter, TimedOut

from bots.telegram import metrics
from bots.telegram.outage import DATABASE
from bots.telegram.refused import REFUSED, Refusals
from bots.telegram.runner import ALLOWED_UPDATES, BotRunner
from bots.telegram.sender import retry_seconds
from bots.telegram.settings import RunSettings

log = logging.getLogger(__name__)


async def poll(runner: BotRunner, settings: RunSettings, refusals: Refusals | None = None) -> None:
    """Long polling: an update is confirmed (next offset) only after it is recorded. A
    refused token stops this bot alone until it is accepted again (with `refusals`)."""
    await runner.bot.delete_webhook(drop_pending_updates=False)
    offset: int | None = None
    backoff = 1.0
    unrecorded = 1.0  # the back-off while the database fails (getUpdates itself succeeds meanwhile)
    while True:
        try:
            updates = await runner.bot.do_api_request(
                "getUpdates",
                api_kwargs={"offset": offset, "timeout": settings.poll_timeout, "allowed_updates": ALLOWED_UPDATES},
                read_timeout=settings.poll_timeout + 10,
            )
            backoff = 1.0
        except REFUSED:
            if refusals is None:
                raise
            refusals.refuse(runner.bot_id, settings.token_envs.get(runner.bot_id, "its token variable"))
            await refusals.until_accepted(runner.bot_id, runner.bot.get_me)
            continue
        except RetryAfter as err:
            metrics.throttled(runner.bot_id, retry_seconds(err.retry_after))
            await asyncio.sleep(retry_seconds(err.retry_after))
            continue
        except Conflict:
            log.error("%s: another process polls with this token, or a webhook is set: retrying", runner.bot_id)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        except (NetworkError, TimedOut) as err:
            log.warning("%s: cannot reach the Bot API (%s): retrying in %.0fs", runner.bot_id, type(err).__name__, backoff)
            metrics.network_error(runner.bot_id)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        if updates:
            try:
                highest = await runner.receive(updates)  # raw JSON, stored as received
            except Exception as err:  # noqa: BLE001 - the database: nothing is confirmed, Telegram keeps them
                if unrecorded == 1.0:  # once a bot while it lasts, with the outage's own line
                    log.error(
                        "%s: cannot record updates in the database (%s): none is confirmed to Telegram, "
                        "which delivers them again; retrying with back-off",
                        runner.bot_id,
                        type(err).__name__,
                    )
                DATABASE.failed(err, f"{runner.bot_id}: recording updates (none confirmed, retrying in {unrecorded:.0f}s)")
                await asyncio.sleep(unrecorded)
                unrecorded = min(unrecorded * 2, 30.0)
                continue
            offset = highest + 1
            unrecorded = 1.0
            DATABASE.ok()
