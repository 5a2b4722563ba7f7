"""`bots run --admin 127.0.0.1:PORT`: `/healthz` and `/metrics` for the operator's tools.

- `GET /healthz` answers 200 when every bot reaches Telegram (a `getMe` with its token), its
  webhook (if it has one) receives what Telegram sends, and the database answers a read;
  503 otherwise. The body has one line per check, so the reason
  is right there for a person reading a monitoring alert. Checks that arrive together share
  one round of `getMe` calls: a busy monitor cannot make the bots hammer Telegram.
- `GET /metrics` is the Prometheus text format (see `bots.telegram.metrics`).

The address must be a loopback one: these pages say how busy each bot is, which a stranger
should not learn. `--admin-public` lets an operator insist (inside a container, behind a
firewall); `check_address` says so when it refuses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from telegram import WebhookInfo
from telegram.error import Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bots.errors import BotsError
from bots.privacy.logsafe import scrub
from bots.telegram import metrics as metrics_module
from bots.telegram.lifecycle import Service
from bots.telegram.metrics import Metrics

if TYPE_CHECKING:
    from bots.storage import SQLStore
    from bots.telegram.runner import BotRunner

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0  # seconds for each Bot API call and for the database read
WEBHOOK_ERRORS_KEPT = dt.timedelta(minutes=10)  # an older delivery failure is history


class AddressRefused(BotsError, ValueError, status=2):
    """The `--admin` address is malformed, or not loopback without `--admin-public`."""


@dataclass(frozen=True)
class AdminAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def check_address(text: str, *, public: bool = False) -> AdminAddress:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`) checked; raises `AddressRefused` saying what to do."""
    host, sep, port_text = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise AddressRefused(f"--admin takes HOST:PORT, e.g. 127.0.0.1:9100, not '{text}'")
    if host != "localhost":
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise AddressRefused(f"--admin takes an IP address (or localhost), not '{host}'") from None
        if not address.is_loopback and not public:
            raise AddressRefused(
                f"--admin {text} is not a loopback address: /healthz and /metrics would be open to the network. "
                "Use 127.0.0.1:PORT (and reach it through SSH or a local Prometheus), or add --admin-public "
                "if a firewall or a private network keeps strangers out (e.g. inside a container)"
            )
    return AdminAddress(host, int(port_text))


def _telegram_problem(err: BaseException) -> str:
    if isinstance(err, InvalidToken):
        return "Telegram refused the token (401)"
    if isinstance(err, Forbidden):
        return "Telegram refused the bot (403)"
    if isinstance(err, asyncio.TimeoutError):
        return f"no answer from the Bot API within {CHECK_TIMEOUT:.0f}s"
    if isinstance(err, (NetworkError, TimedOut)):
        return f"cannot reach the Bot API ({type(err).__name__}: {scrub(str(err.message))[:120]})"
    if isinstance(err, TelegramError):
        return f"the Bot API answered with an error ({type(err).__name__})"
    return f"the check failed ({type(err).__name__})"


def _webhook_problem(info: WebhookInfo) -> str | None:
    """Telegram failing to deliver to our webhook (a reverse proxy down or misconfigured):
    updates wait and the last delivery failed recently. Telegram's own words say how."""
    if not info.url or not info.pending_update_count or info.last_error_date is None:
        return None
    if dt.datetime.now(dt.timezone.utc) - info.last_error_date > WEBHOOK_ERRORS_KEPT:
        return None
    said = scrub(info.last_error_message or "no reason given")[:120]
    return f"cannot deliver to the webhook ({said}; {info.pending_update_count} update(s) waiting)"


def _database_problem(err: BaseException) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:.0f}s"
    if isinstance(err, (sqlite3.Error, OSError)):  # their messages name the failure, not the data
        return f"{type(err).__name__}: {scrub(str(err))[:120]}"
    return type(err).__name__


class Health:
    """The checks behind `/healthz`; concurrent requests share one round of them."""

    def __init__(self, runners: Sequence[BotRunner], store: SQLStore) -> None:
        self.runners = runners
        self.store = store
        self._round: asyncio.Task[list[tuple[str, str | None]]] | None = None

    async def check(self) -> list[tuple[str, str | None]]:
        """(what was checked, the problem or None), bots first, then the database."""
        if self._round is None or self._round.done():
            self._round = asyncio.create_task(self._check_all())
        return await asyncio.shield(self._round)

    async def _check_all(self) -> list[tuple[str, str | None]]:
        results = await asyncio.gather(*(self._check_bot(r) for r in self.runners), self._check_database())
        return list(results)

    async def _check_bot(self, runner: BotRunner) -> tuple[str, str | None]:
        what = f"{runner.bot_id}: Telegram"
        try:
            await asyncio.wait_for(runner.bot.get_me(), CHECK_TIMEOUT)
            info = await asyncio.wait_for(runner.bot.get_webhook_info(), CHECK_TIMEOUT)
        except RetryAfter:  # Telegram answered: it is reachable, only asking this bot to slow down
            return what, None
        except Exception as err:
            return what, _telegram_problem(err)
        return what, _webhook_problem(info)

    async def _check_database(self) -> tuple[str, str | None]:
        try:
            await asyncio.wait_for(self.store.meta("key check"), CHECK_TIMEOUT)
        except Exception as err:
            return "database", _database_problem(err)
        return "database", None


class AdminServer(Service):
    """The aiohttp server behind `--admin`."""

    def __init__(self, address: AdminAddress, health: Health, metrics: Metrics) -> None:
        self.address = address
        self.health = health
        self.metrics = metrics
        self._runner: web.AppRunner | None = None

    async def healthz(self, request: web.Request) -> web.Response:
        results = await self.health.check()
        healthy = all(problem is None for _, problem in results)
        lines = ["ok" if healthy else "unhealthy"] + [f"{what}: {problem or 'ok'}" for what, problem in results]
        return web.Response(status=200 if healthy else 503, text="\n".join(lines) + "\n")

    async def metrics_page(self, request: web.Request) -> web.Response:
        await self.metrics.refresh()
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        from bots.telegram.settings import StartupError  # settings imports this module

        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.address.host, self.address.port).start()
        except OSError as err:
            await self._runner.cleanup()
            raise StartupError(f"cannot serve --admin on {self.address}: {err.strerror or type(err).__name__}") from None
        log.info("health and metrics on http://%s/healthz and /metrics", self.address)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def serve(self) -> None:
        """Serve until cancelled (`bots run` stopping)."""
        metrics_module.activate(self.metrics)
        try:
            await self.start()
            await asyncio.Event().wait()
        finally:
            metrics_module.deactivate(self.metrics)
            await self.stop()


def admin_tasks(address: AdminAddress | None, runners: Sequence[BotRunner], store: SQLStore) -> list[asyncio.Task[None]]:
    """For `run_bots`: the admin server's task, or none without `--admin`."""
    if address is None:
        return []
    server = AdminServer(address, Health(runners, store), Metrics(runners, store))
    metrics_module.activate(server.metrics)  # from now, not only once the socket is bound
    return [asyncio.create_task(server.serve(), name="admin server")]
