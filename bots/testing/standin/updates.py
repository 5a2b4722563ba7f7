"""Per-bot update queue: getUpdates long polling and webhook delivery, as Telegram does them."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import aiohttp

from bots.testing.standin.errors import OTHER_POLLER, WEBHOOK_ACTIVE, ApiError, conflict

log = logging.getLogger(__name__)

# Update types delivered when allowed_updates is empty or never set.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_POLL_TIMEOUT = 50.0

Update = tuple[int, Any, dict[str, Any]]  # (update_id, chat key, the Update JSON object)
WebhookReply = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class Webhook:
    """A webhook set with setWebhook, plus its delivery state for getWebhookInfo."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    has_custom_certificate: bool = False
    ip_address: str = "127.0.0.1"
    last_error_date: int | None = None
    last_error_message: str | None = None
    queues: dict[Any, deque[Update]] = field(default_factory=dict)
    workers: dict[Any, asyncio.Task[None]] = field(default_factory=dict)
    semaphore: asyncio.Semaphore = field(init=False)  # at most max_connections posts at once
    pending: int = 0
    delivered: int = 0

    def __post_init__(self) -> None:
        self.semaphore = asyncio.Semaphore(self.max_connections)


class UpdateQueue:
    """Updates of one bot, delivered by getUpdates or pushed to its webhook.

    Memory is bounded: confirmed updates are dropped at once, and at most ``max_pending``
    unconfirmed updates are kept (the oldest are dropped beyond that, like Telegram's 24 h).
    """

    def __init__(
        self,
        *,
        max_pending: int = 100_000,
        retry_delay: float = 0.5,
        retry_max: float = 30.0,
        webhook_timeout: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pending: deque[Update] = deque()
        self.next_id = 1
        self.allowed: frozenset[str] | None = None  # None: default set
        self.max_pending = max_pending
        self.retry_delay = retry_delay
        self.retry_max = retry_max
        self.webhook_timeout = webhook_timeout
        self.clock = clock
        self.webhook: Webhook | None = None
        self.session: aiohttp.ClientSession | None = None
        self.on_reply: WebhookReply | None = None
        self.created = 0
        self._poller: asyncio.Future[bool] | None = None  # result True: terminated by a newer poll

    # -- producing ---------------------------------------------------------------------------
    def accepts(self, kind: str) -> bool:
        """Whether an update of this type passes the bot's current allowed_updates."""
        return kind not in NOT_BY_DEFAULT if self.allowed is None else kind in self.allowed

    def push(self, kind: str, payload: dict[str, Any], chat_key: Any = None) -> int | None:
        """Enqueue an update; returns its update_id, or None when allowed_updates filters it out."""
        if not self.accepts(kind):
            return None
        uid = self.next_id
        self.next_id = uid + 1
        self.created += 1
        update: Update = (uid, chat_key, {"update_id": uid, kind: payload})
        hook = self.webhook
        if hook is not None:
            self._hook_enqueue(hook, update)
            return uid
        self.pending.append(update)
        if len(self.pending) > self.max_pending:
            self.pending.popleft()
        poller = self._poller
        if poller is not None and not poller.done():
            poller.set_result(False)
        return uid

    @property
    def pending_count(self) -> int:
        """Updates not yet confirmed (polling) or not yet delivered (webhook)."""
        return self.webhook.pending if self.webhook is not None else len(self.pending)

    @property
    def polling(self) -> bool:
        """A getUpdates is waiting here (long polling) for an update to arrive."""
        return self._poller is not None and not self._poller.done()

    # -- getUpdates ----------------------------------------------------------------------------
    def set_allowed(self, allowed: list[str] | None) -> None:
        """Apply an allowed_updates list (``[]`` restores the default set; None keeps the current)."""
        if allowed is None:
            return
        self.allowed = frozenset(allowed) if allowed else None

    def _confirm(self, offset: int | None) -> None:
        pending = self.pending
        if offset is None or offset == 0:
            return
        if offset < 0:
            keep = -offset
            while len(pending) > keep:
                pending.popleft()
            return
        while pending and pending[0][0] < offset:
            pending.popleft()

    def _take(self, limit: int) -> list[dict[str, Any]]:
        pending = self.pending
        if limit >= len(pending):
            return [u[2] for u in pending]
        return [pending[i][2] for i in range(limit)]

    async def get_updates(
        self, offset: int | None, limit: int | None, timeout: float | None, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        """Telegram's getUpdates: confirm below ``offset``, then return up to ``limit`` updates,
        waiting up to ``timeout`` seconds (max 50) for the first one to arrive."""
        if self.webhook is not None:
            raise conflict(WEBHOOK_ACTIVE)
        limit = 100 if not limit or limit > 100 else max(1, limit)
        self.set_allowed(allowed)
        self._confirm(offset)
        old = self._poller
        if old is not None and not old.done():
            old.set_result(True)
        if self.pending or not timeout or timeout <= 0:
            self._poller = None
            return self._take(limit)
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._poller = fut
        try:
            await asyncio.wait_for(asyncio.shield(fut), min(float(timeout), MAX_POLL_TIMEOUT))
        except asyncio.TimeoutError:
            pass
        finally:
            if self._poller is fut:
                self._poller = None
        if fut.done() and fut.result():
            raise conflict(OTHER_POLLER)
        if self.webhook is not None:
            raise conflict(WEBHOOK_ACTIVE)
        return self._take(limit)

    def release_poller(self) -> None:
        """Wake a waiting getUpdates (used on shutdown) so it answers at once."""
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(False)

    # -- webhooks ------------------------------------------------------------------------------
    def set_webhook(self, hook: Webhook, drop_pending: bool) -> None:
        """Install a webhook; queued updates move to it unless ``drop_pending``."""
        old = self.remove_webhook(drop_pending=drop_pending)
        del old
        hook.semaphore = asyncio.Semaphore(hook.max_connections)
        self.webhook = hook
        self.release_poller()
        backlog, self.pending = self.pending, deque()
        for update in backlog:
            self._hook_enqueue(hook, update)

    def remove_webhook(self, drop_pending: bool) -> Webhook | None:
        """Remove the webhook; undelivered updates return to the getUpdates queue unless dropped."""
        hook = self.webhook
        self.webhook = None
        if drop_pending:
            self.pending.clear()
        if hook is None:
            return None
        for task in hook.workers.values():
            task.cancel()
        if not drop_pending:
            back = sorted((u for q in hook.queues.values() for u in q), key=lambda u: u[0])
            self.pending.extend(back)
        hook.queues.clear()
        hook.workers.clear()
        hook.pending = 0
        return hook

    def _hook_enqueue(self, hook: Webhook, update: Update) -> None:
        queue = hook.queues.get(update[1])
        if queue is None:
            queue = hook.queues[update[1]] = deque()
        queue.append(update)
        hook.pending += 1
        if update[1] not in hook.workers:
            hook.workers[update[1]] = asyncio.get_running_loop().create_task(self._deliver_chat(hook, update[1]))

    async def _deliver_chat(self, hook: Webhook, key: Any) -> None:
        """Deliver one chat's updates in order, one in flight, retrying with back-off."""
        queue = hook.queues.get(key) or deque()
        attempt = 0
        try:
            while queue:
                update = queue[0]
                async with hook.semaphore:
                    ok = await self._post(hook, update[2])
                if ok:
                    if queue and queue[0] is update:
                        queue.popleft()
                        hook.pending -= 1
                        hook.delivered += 1
                    attempt = 0
                else:
                    await asyncio.sleep(min(self.retry_delay * (2**attempt), self.retry_max))
                    attempt += 1
        finally:
            if hook.workers.get(key) is asyncio.current_task():
                del hook.workers[key]
                if not queue:
                    hook.queues.pop(key, None)

    async def _post(self, hook: Webhook, body: dict[str, Any]) -> bool:
        if self.session is None:
            return False
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with self.session.post(
                hook.url, data=json.dumps(body), headers=headers, timeout=aiohttp.ClientTimeout(total=self.webhook_timeout)
            ) as resp:
                raw = await resp.read()
                if 200 <= resp.status < 300:
                    await self._maybe_reply(raw, resp.content_type)
                    return True
                hook.last_error_message = f"Wrong response from the webhook: {resp.status} {resp.reason or ''}".strip()
        except asyncio.TimeoutError:
            hook.last_error_message = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            hook.last_error_message = "Connection refused"
        except aiohttp.ClientError as exc:
            hook.last_error_message = f"Connection error: {type(exc).__name__}"
        hook.last_error_date = int(self.clock())
        return False

    async def _maybe_reply(self, raw: bytes, content_type: str) -> None:
        """Telegram executes a method given in a webhook's JSON reply; so does the stand-in."""
        if not raw or self.on_reply is None or "json" not in content_type:
            return
        try:
            data = json.loads(raw)
        except ValueError:
            return
        if isinstance(data, dict) and isinstance(data.get("method"), str):
            try:
                await self.on_reply(data)
            except ApiError:
                pass
            except Exception:  # noqa: BLE001 - a bad reply must not stop delivery
                log.exception("webhook reply failed")

    def info(self) -> dict[str, Any]:
        """The getWebhookInfo result."""
        hook = self.webhook
        if hook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.pending)}
        info: dict[str, Any] = {
            "url": hook.url,
            "has_custom_certificate": hook.has_custom_certificate,
            "pending_update_count": hook.pending,
            "max_connections": hook.max_connections,
            "ip_address": hook.ip_address,
        }
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        return info
