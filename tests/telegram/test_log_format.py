"""`bots run --log-format json` end to end: every line parses and holds no id, name or text."""

from __future__ import annotations

import json

from bots.testing.standin import BotApiStandin
from tests.support.standin import greeting


async def test_bots_run_logs_json_lines_that_hold_no_id_and_no_text(api: BotApiStandin, running) -> None:
    process = running("--log-format", "json")
    process.global_args = ("-vv",)
    bot = await process.start()
    jana = api.user("Jana", username="jana_secret_handle")
    question = await greeting(api, jana)
    api.fail_next("sendMessage", chat=jana, status=400, description="Bad Request: can't parse entities in Size for red")
    await api.press(jana, question, "Red")
    await api.wait_for_messages(jana, 1, timeout=10)  # the apology
    code, logs = await bot.stop()
    assert code == 0, logs
    entries = [json.loads(line) for line in logs.splitlines()]  # every line parses
    assert any(e.get("bot") == "demo" and e["message"] == "started (long polling)" for e in entries)
    assert any(e["level"] == "ERROR" and e.get("bot") == "demo" and "(400)" in e["message"] for e in entries)
    for secret in ("Jana", "jana_secret_handle", str(jana.id), "Size for", "Colour", "TEST-token"):
        assert secret not in logs, secret
