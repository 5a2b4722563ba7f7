"""A flow failing at run time under `bots run`: the person gets an apology, the log one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.testing.standin import BotApiStandin
from tests.support.project import BOT_YAML, FAILING_TEMPLATE, write_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": FAILING_TEMPLATE})


async def test_a_flow_problem_is_logged_once_with_its_place_and_without_the_answer(api: BotApiStandin, running) -> None:
    bot = await running().start()
    jana = api.user("Jana")
    await api.send_text(jana, "/start")
    await api.wait_for_messages(jana, 1, timeout=15)
    await api.send_text(jana, "4217")
    [apology] = await api.wait_for_messages(jana, 1, timeout=15)
    assert "something went wrong" in apology.text
    code, logs = await bot.stop()
    assert code == 0, logs
    problems = [line for line in logs.splitlines() if "flow problem" in line]
    assert len(problems) == 1, logs  # the runner logs it; the engine logs nothing of its own
    assert "demo/main:show" in problems[0]
    assert "4217" not in logs and "Jana" not in logs
