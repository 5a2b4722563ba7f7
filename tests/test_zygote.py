"""The tests' `bots` processes forked from the zygote behave as `python -m bots` does: the
same output and exit status, their own working folder and environment, signals."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tests.support.commands import BOTS, ended, environment
from tests.support.project import BOT_YAML, write_project
from tests.support.zygote import fork_bots


async def _both(*args: str, cwd: Path, env: dict[str, str]) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    forked = await ended(await fork_bots(list(args), cwd=cwd, env=env))
    started = await asyncio.create_subprocess_exec(
        *BOTS, *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    return tuple(forked), tuple(await ended(started))  # type: ignore[return-value]


async def test_a_forked_command_says_and_exits_as_a_started_one(tmp_path: Path) -> None:
    broken = write_project(
        tmp_path / "p", {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": "start: nowhere\nnodes: {}\n"}
    )
    forked, started = await _both("check", cwd=broken, env=environment())
    assert forked == started
    assert forked[0] == 1 and "main.yaml" in forked[1] + forked[2]
    forked, started = await _both(
        "db", "status", "--db", str(tmp_path / "none.db"), cwd=tmp_path, env=environment(BOTS_SECRET_KEY="weak")
    )
    assert forked == started and forked[0] == 2  # a weak key: its own exit status, from the child's own environment


QUESTION = """\
start: ask
nodes:
  ask:
    type: input
    kind: text
    text: "Your name?"
    save: name
    next: ask
"""


async def test_a_forked_process_is_its_own_and_takes_signals(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": QUESTION})
    env = environment(BOTS_DB=str(tmp_path / "c.db"))
    process = await fork_bots(["chat", "demo"], cwd=project, env=env, stdin=True)
    assert process.pid != os.getpid()
    asked = await asyncio.wait_for(process.stdout.readuntil(b"Your name?"), 20)  # it runs, in its own folder
    assert asked.endswith(b"Your name?")
    process.send_signal(signal.SIGKILL)
    assert await asyncio.wait_for(process.wait(), 10) == -signal.SIGKILL
