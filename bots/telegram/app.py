"""`bots run`: every bot of the project in one process, by long polling or by webhook."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot
from telegram.error import (
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bots.engine.i18n import Translator
from bots.engine.project import Project
from bots.errors import BotsError
from bots.loader.watcher import ProjectWatcher, Version
from bots.privacy.logsafe import asyncio_exception_handler
from bots.privacy.vault import Vault
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
from bots.telegram.outage import DATABASE
from bots.telegram.pacing import Pacer
from bots.telegram.refused import REFUSED, NoBotLeft, Refusals, TokenRefused, recheck_every, refused_line
from bots.telegram.runner import ALLOWED_UPDATES, BotRunner
from bots.telegram.sender import retry_seconds
from bots.telegram.vanish import keep_vanishing

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org/bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class StartupError(BotsError):
    """A bot cannot start; the message is one line naming the bot and what to fix."""


@dataclass
class RunSettings:
    api_url: str | None = None
    webhook_url: str | None = None
    listen: str = "127.0.0.1"
    port: int = 8443
    max_connections: int = 40  # Telegram's default: webhook requests it may have open at once
    poll_timeout: int = 50
    #: False only against a local Bot API server that has no limits (benchmarks)
    pace: bool = True
    #: watch flows/, knowledge/ and locales/ and apply saved changes (live reload)
    reload: bool = True
    admin: admin.AdminAddress | None = None  # --admin: /healthz and /metrics
    tokens: dict[str, str] = field(default_factory=dict)
    token_envs: dict[str, str] = field(default_factory=dict)
    #: seconds between two tries of a bot's refused token (see bots.telegram.refused)
    recheck_every: float = field(default_factory=recheck_every)


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


class WebhookServer:
    """One aiohttp server for every bot: `POST <path>/<bot>`, checked by secret token."""

    def __init__(self, runners: list[BotRunner], settings: RunSettings, vault: Vault | None = None) -> None:
        if not settings.webhook_url:
            raise ValueError("a webhook server needs the webhook's URL")
        self.runners = {r.bot_id: r for r in runners}
        self.settings = settings
        self.base = settings.webhook_url.rstrip("/")
        self.path = urlsplit(self.base).path.rstrip("/")
        # every worker behind one address must give Telegram the same secret: it is derived
        # from the secret key (a random one per process with the public development key)
        self.secrets = {
            bot_id: vault.shared_secret(f"webhook {bot_id}")
            if vault is not None and not vault.development
            else secrets.token_urlsafe(32)
            for bot_id in self.runners
        }
        self.site: web.TCPSite | None = None
        self.app_runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        bot_id = request.match_info["bot"]
        runner = self.runners.get(bot_id)
        given = request.headers.get(SECRET_HEADER, "")
        if runner is None or not hmac.compare_digest(given.encode(), self.secrets[bot_id].encode()):
            return web.Response(status=403)
        try:
            update = await request.json()
        except ValueError:
            return web.Response(status=400)
        try:
            await runner.receive([update])  # answered only once the update is safely recorded
        except Exception as err:  # noqa: BLE001 - the database: Telegram delivers it again later
            DATABASE.failed(err, f"{bot_id}: recording an update (answered 503)")
            return web.Response(status=503)
        DATABASE.ok()
        return web.Response(status=200)

    async def start(self, skip: set[str] | frozenset[str] = frozenset()) -> None:
        """Serve, and tell Telegram where each bot's updates go (but the bots in `skip`)."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(f"{self.path}/{{bot}}", self.handle)
        self.app_runner = web.AppRunner(app, access_log=None)
        await self.app_runner.setup()
        self.site = web.TCPSite(self.app_runner, self.settings.listen, self.settings.port)
        await self.site.start()
        for bot_id, runner in self.runners.items():
            if bot_id not in skip:
                await self.set_webhook(runner)

    async def set_webhook(self, runner: BotRunner) -> None:
        await runner.bot.set_webhook(
            f"{self.base}/{runner.bot_id}",
            secret_token=self.secrets[runner.bot_id],
            allowed_updates=ALLOWED_UPDATES,
            max_connections=self.settings.max_connections,
        )

    async def stop(self) -> None:
        if self.app_runner is not None:
            await self.app_runner.cleanup()


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

            tasks.append(asyncio.create_task(watcher.watch(apply)))
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
        calls = await runner.forget(key, chat_id, None, lang=None, now=dt.datetime.now(dt.timezone.utc))
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
