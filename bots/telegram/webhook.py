"""Webhooks: one aiohttp server for every bot of the process, each request checked by the
bot's secret token and answered only once its update is recorded."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from bots.privacy.vault import Vault
from bots.telegram.lifecycle import Service
from bots.telegram.outage import DATABASE
from bots.telegram.runner import ALLOWED_UPDATES, BotRunner
from bots.telegram.settings import RunSettings

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer(Service):
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
