"""`bots run`: every bot of the project in one process, by long polling or by webhook.

The wiring: the runners, and the tasks around them (polling in `polling`, the webhook
server in `webhook`, leases, heartbeats and the tidy in `housekeeping`, vanishing in
`vanish`, /healthz and /metrics in `admin`, live reload in `bots.loader.watcher`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging

from telegram import Bot
from telegram.error import (
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bots.engine.i18n import Translator
from bots.engine.project import Project
from bots.loader.watcher import ProjectWatcher, Version
from bots.privacy.logsafe import asyncio_exception_handler
from bots.storage import ConversationKey, SQLStore
from bots.telegram import admin, metrics
from bots.telegram.housekeeping import (
    HEARTBEAT_EVERY,
    keep_alive,
    keep_tidy,
    notice_other_writers,
    post_weekly_reports,
    while_leased,
)
from bots.telegram.pacing import Pacer
from bots.telegram.polling import poll
from bots.telegram.refused import NoBotLeft, Refusals, TokenRefused, refused_line
from bots.telegram.runner import BotRunner
from bots.telegram.settings import DEFAULT_API_URL, RunSettings, StartupError
from bots.telegram.vanish import keep_vanishing
from bots.telegram.webhook import WebhookServer

log = logging.getLogger(__name__)


class RawBot(Bot):
    """A PTB `Bot` that lets us call methods by name and get the raw JSON back.

    We store updates exactly as received and rarely need Telegram's reply as objects, so
    `do_api_request` without a return type is the cheap path; PTB warns about using it for a
    method it also has a typed shortcut for, and that warning is all this class silences.
    """

    @classmethod
    def _warn(cls, message: str | PTBUserWarning, category: type[Warning] = PTBUserWarning, stacklevel: int = 0) -> None:
        if isinstance(message, str) and message.startswith("Please use 'Bot."):
            return
        super()._warn(message, category=category, stacklevel=stacklevel + 1)


def make_bot(token: str, api_url: str | None) -> Bot:
    """A PTB `Bot` on our aiohttp request backend where it is available."""
    try:
        from bots.telegram.request import AiohttpRequest
    except ImportError:  # pragma: no cover - the backend ships with the package
        from telegram.request import HTTPXRequest

        return RawBot(
            token,
            base_url=api_url or DEFAULT_API_URL,
            request=HTTPXRequest(connection_pool_size=256),
            get_updates_request=HTTPXRequest(),
        )
    return RawBot(token, base_url=api_url or DEFAULT_API_URL, request=AiohttpRequest(), get_updates_request=AiohttpRequest())


async def start_runner(runner: BotRunner, settings: RunSettings) -> None:
    env = settings.token_envs.get(runner.bot_id, "its token variable")
    url = settings.api_url or DEFAULT_API_URL
    try:
        await runner.start()
    except InvalidToken:
        raise TokenRefused(refused_line(runner.bot_id, env)) from None
    except (NetworkError, TimedOut) as err:
        raise StartupError(f"{runner.bot_id}: cannot reach the Bot API at {url} ({err.message})") from None
    except TelegramError as err:
        raise StartupError(f"{runner.bot_id}: the Bot API at {url} refused to start the bot: {err.message}") from None


async def resume_refused(
    runner: BotRunner,
    settings: RunSettings,
    refusals: Refusals,
    started: list[BotRunner],
    server: WebhookServer | None,
    store: SQLStore,
) -> None:
    """A bot whose token was refused at the start: tried again until Telegram accepts it,
    then started and served like the others (the rest of the process never waited for it)."""
    await refusals.until_accepted(runner.bot_id, functools.partial(start_runner, runner, settings))
    started.append(runner)
    if server is not None:
        await server.set_webhook(runner)
        await asyncio.Event().wait()  # served by the webhook server from now on: the run goes on
    await while_leased(store, f"poll {runner.bot_id}", functools.partial(poll, runner, settings, refusals))


async def run_bots(
    project: Project,
    bot_ids: list[str],
    store: SQLStore,
    translator: Translator,
    settings: RunSettings,
    stop: asyncio.Event,
) -> None:
    """Run until `stop` is set; then finish the updates in hand and shut down cleanly."""
    runners = [
        BotRunner(
            project,
            bot_id,
            make_bot(settings.tokens[bot_id], settings.api_url),
            store,
            translator,
            pacer=Pacer(enabled=settings.pace),
        )
        for bot_id in bot_ids
    ]
    for runner in runners:
        runner.flood_in_database = store.shared and bool(settings.webhook_url)
    started: list[BotRunner] = []
    asyncio.get_running_loop().set_exception_handler(asyncio_exception_handler)
    tasks: list[asyncio.Task[None]] = []
    server: WebhookServer | None = None
    try:
        await store.heartbeat()
        if store.shared and not store.alone:
            # the workers already running see this one at their next heartbeat: until then a
            # worker that was alone takes no chat lock in the database and does not wait for
            # another's calls to a chat (see SQLStore.calls_before and PostgreSQL's chat lock)
            await asyncio.sleep(HEARTBEAT_EVERY * 2.5)
        refusals = Refusals(len(runners), settings.recheck_every)
        for runner in runners:
            try:
                await start_runner(runner, settings)
            except TokenRefused as err:
                if len(runners) == 1:
                    raise StartupError(str(err)) from None
                refusals.refuse(runner.bot_id, settings.token_envs.get(runner.bot_id, "its token variable"))
                continue
            started.append(runner)
            log.info("%s: started (%s)", runner.bot_id, "webhook" if settings.webhook_url else "long polling")
        if settings.webhook_url:
            server = WebhookServer(runners, settings, store.vault)
            await server.start(skip=refusals.refused)
        else:
            # one worker polls each bot: the holder of its lease
            tasks = [
                asyncio.create_task(
                    while_leased(store, f"poll {runner.bot_id}", functools.partial(poll, runner, settings, refusals))
                )
                for runner in started
            ]
        for runner in runners:  # refused at the start: tried again until accepted
            if runner not in started:
                tasks.append(asyncio.create_task(resume_refused(runner, settings, refusals, started, server, store)))
        tasks.append(asyncio.create_task(keep_alive(store, started)))
        tasks.append(asyncio.create_task(while_leased(store, "tidy", functools.partial(keep_tidy, store, project, bot_ids))))
        tasks.append(asyncio.create_task(while_leased(store, "vanish", functools.partial(keep_vanishing, started))))
        if not store.shared:
            tasks.append(asyncio.create_task(notice_other_writers(store)))
        tasks.append(asyncio.create_task(while_leased(store, "weekly reports", functools.partial(post_weekly_reports, runners))))
        tasks += admin.admin_tasks(settings.admin, runners, store)
        if settings.reload:
            watcher = ProjectWatcher(project.root)

            def apply(version: Version) -> None:
                for runner in runners:
                    runner.reload(version.project, version.translator)
                metrics.reload_outcome(True)

            def refused(errors: list[str]) -> None:
                metrics.reload_outcome(False)

            tasks.append(asyncio.create_task(watcher.watch(apply, refused)))
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        waiter.cancel()
    except Forbidden as err:
        raise StartupError(f"the Bot API refused: {err.message}") from None
    except NoBotLeft as err:
        raise StartupError(str(err)) from None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.stop()
        for runner in started:
            await runner.stop()
        for runner in runners:
            if runner not in started:  # its HTTP sessions may be open from a failed start
                await asyncio.gather(runner.bot.shutdown(), return_exceptions=True)
        await asyncio.gather(store.leave(), return_exceptions=True)  # its leases are free at once


async def forget_person(
    project: Project,
    bot_id: str,
    chat_id: int,
    store: SQLStore,
    translator: Translator,
    *,
    token: str,
    api_url: str | None,
) -> tuple[int, bool]:
    """`bots forget`: what `/forget` does, for an administrator. Returns the number of Bot
    API calls (message and topic deletions) and whether they were made now (with a token)
    or left in the journal for the bot's next start."""
    bot = make_bot(token or "0:no-token", api_url)
    runner = BotRunner(project, bot_id, bot, store, translator)
    key = ConversationKey(bot_id, runner.chat_key(chat_id))
    async with store.lock(key):
        now = dt.datetime.now(dt.timezone.utc)
        outcome = await runner.forget(key, chat_id, None, lang=None, now=now)
        await store.commit(outcome, now=now)
    calls = list(outcome.calls)
    if not token or not calls:
        return len(calls), False
    try:
        await bot.initialize()
    except TelegramError as err:
        raise StartupError(
            f"{bot_id}: Telegram refused the token ({type(err).__name__}); the calls wait in the journal"
        ) from None
    runner.sender.enqueue(calls)
    await runner.sender.wait_idle(60)
    await runner.sender.stop()
    await bot.shutdown()
    return len(calls), True
