"""Killed with SIGKILL in the middle of a burst from many chats, then restarted on the same
database: no reply is lost, each chat's replies keep their order, and nothing is sent twice
except a message that was in flight at the instant of the kill."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bots.testing.standin import BotApiStandin
from tests.support.commands import BotProcess
from tests.support.project import write_project
from tests.support.standin import check_echoes, echoes
from tests.telegram.conftest import ECHO

CHATS = 12
BURST = 10


async def test_sigkill_mid_burst_loses_nothing_and_repeats_nothing(api: BotApiStandin, tmp_path: Path) -> None:
    project = write_project(tmp_path / "echo", {"flows/demo/main.yaml": ECHO})
    db = tmp_path / "crash.db"
    people = [api.user(f"P{i}") for i in range(CHATS)]
    first = await BotProcess(project, api, db).start()
    for person in people:
        await api.send_text(person, "/start")
    for person in people:
        await api.wait_for_messages(person, 1, timeout=20)

    async def burst(person) -> None:
        for n in range(BURST):
            await api.send_text(person, f"m{n}")
            await asyncio.sleep(0.005)  # a burst spread out a little, so that the kill lands inside it

    sending = asyncio.gather(*(burst(p) for p in people))
    # kill once a good part of the burst has been answered, while the rest is in progress
    await api.wait_until(lambda: sum(len(api.messages(p)) for p in people) >= CHATS * BURST // 2, timeout=30)
    await first.stop(signal.SIGKILL)
    await sending

    second = await BotProcess(project, api, db).start()
    expected = [f"You said m{n}" for n in range(BURST)]
    for person in people:
        await api.wait_until(lambda p=person: echoes(api, p)[-1:] == [expected[-1]], timeout=40)
    code, errors = await second.stop()
    assert code == 0, errors

    # nothing lost, order kept; at most the one message in flight when the process died
    duplicates = check_echoes(api, people, expected, repeats_allowed=1)
    assert duplicates <= CHATS
