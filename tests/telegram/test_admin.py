"""`bots run --admin`: /healthz and /metrics of a real `bots run`, against the stand-in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bots.telegram.admin import AddressRefused, Health, check_address
from bots.telegram.metrics import samples
from bots.testing.standin import BotApiStandin
from tests.support.net import free_port
from tests.support.standin import greeting


async def get(url: str, bot=None, *, wait: float = 30.0) -> tuple[int, str]:
    """GET `url`; while nothing listens yet (`bot` is starting), try again until `wait`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    return response.status, await response.text()
            except aiohttp.ClientConnectorError:
                if bot is not None and bot.process.returncode is not None:
                    code, errors = await bot.wait()
                    pytest.fail(f"bots run ended ({code}) before serving {url}:\n{errors}")
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.1)  # nothing listens yet: ask again (nothing is asserted of the wait)


async def metrics_when(base: str, ready, *, wait: float = 15.0) -> dict[tuple[str, str], float]:
    """The /metrics samples as {(name, bot): value}, once `ready(samples)` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        _, text = await get(f"{base}/metrics")
        values = {(name, labels.get("bot", "")): value for name, labels, value in samples(text) if "le" not in labels}
        if ready(values) or loop.time() > deadline:
            return values
        await asyncio.sleep(0.1)  # the metrics have no event to wait on: read them again


async def test_health_and_metrics_follow_a_real_run(api: BotApiStandin, running, project: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = await running("--admin", f"127.0.0.1:{port}").start()

    status, body = await get(f"{base}/healthz", bot)
    assert status == 200, body
    assert body.splitlines() == ["ok", "demo: Telegram: ok", "database: ok"]

    # a conversation, with one 429 on the way: the counts move, per bot and nothing else
    alice = api.user("Alice", username="alice_private_handle")
    api.fail_next("sendMessage", chat=alice, status=429, retry_after=1)
    question = await greeting(api, alice)
    await api.press(alice, question, "Blue")
    await api.wait_for_messages(alice, 1, timeout=10)
    values = await metrics_when(
        base, lambda v: v.get(("bots_updates_processed_total", "demo"), 0) >= 2 and not v.get(("bots_outbox_depth", "demo"))
    )
    assert values[("bots_updates_received_total", "demo")] == 2
    assert values[("bots_updates_processed_total", "demo")] == 2
    assert values[("bots_step_seconds_count", "demo")] == 2
    assert values[("bots_telegram_429_total", "demo")] == 1
    assert values[("bots_telegram_429_wait_seconds_total", "demo")] == 1.0
    assert values[("bots_calls_sent_total", "demo")] >= 2
    assert values[("bots_outbox_depth", "demo")] == 0
    assert values[("bots_handoffs_open", "demo")] == 0
    assert values[("bots_updates_failed_total", "demo")] == 0

    _, page = await get(f"{base}/metrics")
    for name, labels, _ in samples(page):
        assert set(labels) <= {"bot", "le"}, (name, labels)
        assert labels.get("bot", "demo") == "demo"
    for secret in ("Alice", "alice_private_handle", str(alice.id), "Colour", "Blue"):
        assert secret not in page

    # a change with an error is refused, a good one goes live: both counted
    flow = project / "flows/demo/main.yaml"
    good = flow.read_text()
    flow.write_text(good.replace("next: guide", "next: gide"))
    values = await metrics_when(base, lambda v: v.get(("bots_reload_refusals_total", "demo"), 0) >= 1)
    assert values[("bots_reload_refusals_total", "demo")] == 1
    flow.write_text(good.replace("Size for", "Which size for"))
    values = await metrics_when(base, lambda v: v.get(("bots_reloads_total", "demo"), 0) >= 1)
    assert values[("bots_reloads_total", "demo")] == 1
    assert values[("bots_reload_refusals_total", "demo")] == 1

    # Telegram failing: 503 with the reason; back to 200 once it answers again
    api.fail_next("getMe", status=502, times=None)
    status, body = await get(f"{base}/healthz")
    assert status == 503
    lines = body.splitlines()
    assert lines[0] == "unhealthy"
    assert lines[1].startswith("demo: Telegram: cannot reach the Bot API (NetworkError"), lines
    assert lines[2] == "database: ok"
    api.clear_faults("getMe")
    status, body = await get(f"{base}/healthz")
    assert status == 200, body

    code, errors = await bot.stop()
    assert code == 0, errors


async def test_a_non_loopback_admin_address_is_refused_unless_insisted(running) -> None:
    bot = await running("--admin", "0.0.0.0:9100").start()
    code, errors = await bot.wait()
    assert code == 2
    assert errors.startswith("bots: --admin 0.0.0.0:9100 is not a loopback address")
    assert "--admin-public" in errors
    assert check_address("0.0.0.0:9100", public=True).host == "0.0.0.0"
    assert str(check_address("[::1]:9100")) == "[::1]:9100"
    for wrong in ("9100", "127.0.0.1", "127.0.0.1:0", "example.org:9100", "10.0.0.1:9100"):
        with pytest.raises(AddressRefused):
            check_address(wrong)


async def test_a_database_that_does_not_answer_is_unhealthy(tmp_path: Path) -> None:
    from bots.storage import SQLiteConversationStore

    store = SQLiteConversationStore(tmp_path / "bots.db")
    await store.initialize()
    health = Health([], store)
    assert await health.check() == [("database", None)]
    await store.shutdown()  # as good as a database that went away
    [(what, problem)] = await health.check()
    assert what == "database" and problem == "RuntimeError"


async def test_a_webhook_that_telegram_cannot_reach_is_unhealthy(api: BotApiStandin, running) -> None:
    listen, admin, elsewhere = free_port(), free_port(), free_port()  # nothing listens on `elsewhere`
    hook = f"http://127.0.0.1:{elsewhere}/hook"  # as a reverse proxy that is down or points nowhere
    bot = await running(
        "--webhook", hook, "--listen", "127.0.0.1", "--port", str(listen), "--admin", f"127.0.0.1:{admin}"
    ).start()
    status, body = await get(f"http://127.0.0.1:{admin}/healthz", bot)
    assert status == 200, body  # nothing to deliver yet
    await api.send_text(api.user("Lena"), "/start")
    await api.wait_until(lambda: api.webhook_info().get("last_error_message"), timeout=15)
    status, body = await get(f"http://127.0.0.1:{admin}/healthz")
    assert status == 503
    assert body.splitlines()[1] == "demo: Telegram: cannot deliver to the webhook (Connection refused; 1 update(s) waiting)"
    code, errors = await bot.stop()
    assert code == 0, errors
