"""`bots` as a real process: its environment, a command run to its end (with or without an
event loop), and `bots run` kept running against the stand-in (BotProcess)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from bots.testing.standin import BotApiStandin
from tests.support.standin import TOKEN
from tests.support.store import SECRET_KEY
from tests.support.zygote import ForkedProcess, fork_bots, forking

BOTS = (sys.executable, "-m", "bots")


def environment(**changes: str | None) -> dict[str, str]:
    """This process's environment with `changes`; a change to None removes the variable."""
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def bots_env(api: BotApiStandin | None = None, **changes: str | None) -> dict[str, str]:
    """The environment of the tests' `bots` processes: the tests' secret key and, with `api`,
    the stand-in's address and the demo bot's token; then `changes`."""
    ours: dict[str, str | None] = {"PTB_TIMEDELTA": "true", "BOTS_SECRET_KEY": SECRET_KEY}
    if api is not None:
        ours |= {"TELEGRAM_API_URL": api.base_url, "DEMO_TOKEN": TOKEN}
    return environment(**(ours | changes))


def run_bots(
    *args: str, cwd: Path | None = None, stdin: str = "", env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`bots ARGS` in `cwd` (this folder when None) to its end, `stdin` as its input; what it
    printed, as text."""
    return subprocess.run(
        [*BOTS, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout, env=dict(env or os.environ)
    )


class Ended(NamedTuple):
    code: int
    out: str
    err: str


async def start_bots(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> asyncio.subprocess.Process | ForkedProcess:
    """`bots ARGS` started in `cwd`, a process of its own; read it with `ended`. It is forked
    from the tests' zygote (the package imported once, see `tests.support.zygote`), or with
    BOTS_TEST_EXEC=1 started as `python -m bots`."""
    if forking():
        return await fork_bots(list(args), cwd=cwd, env=dict(env or os.environ))
    return await asyncio.create_subprocess_exec(
        *BOTS, *args, cwd=cwd, env=dict(env or os.environ), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def ended(process: asyncio.subprocess.Process | ForkedProcess, timeout: float = 60) -> Ended:
    """Wait for `process` to end: its exit status and what it printed."""
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return Ended(process.returncode or 0, (out or b"").decode(), err.decode())


async def run_bots_async(*args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 60) -> Ended:
    """`bots ARGS` in `cwd` to its end, in the test's event loop (beside the stand-in)."""
    return await ended(await start_bots(*args, cwd=cwd, env=env), timeout)


class BotProcess:
    """`bots run` in a subprocess, against the stand-in."""

    def __init__(self, project: Path, api: BotApiStandin, db: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.project = project
        self.api = api
        self.db = db
        self.args = args
        self.env = env
        self.global_args: tuple[str, ...] = ()
        self.process: asyncio.subprocess.Process | ForkedProcess | None = None
        self._stderr = bytearray()
        self._more = asyncio.Event()  # set whenever stderr grows
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> BotProcess:
        self.process = await start_bots(
            *self.global_args,
            "run",
            *self.args,
            cwd=self.project,
            env=bots_env(self.api, BOTS_DB=str(self.db), **(self.env or {})),
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            asyncio.create_task(self._drain(self.process.stdout, None)),
            asyncio.create_task(self._drain(self.process.stderr, self._stderr)),
        ]
        return self

    async def _drain(self, stream: asyncio.StreamReader, into: bytearray | None) -> None:
        while chunk := await stream.read(65536):
            if into is not None:
                into += chunk
                self._more.set()

    def _logged(self, text: str) -> int:
        return self._stderr.decode(errors="replace").count(text)

    async def logged(self, text: str, count: int = 1, timeout: float = 15) -> None:
        """Wait until the process has written `text` to stderr `count` times in all: a barrier
        for what it logs (a reload done), instead of sleeping for long enough."""

        async def seen() -> None:
            while self._logged(text) < count:
                self._more.clear()
                if self._logged(text) < count:
                    await self._more.wait()

        try:
            await asyncio.wait_for(seen(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"not logged {count} time(s) in {timeout} s: {text!r}\n{self._stderr.decode(errors='replace')}"
            ) from None

    async def _ended(self, timeout: float) -> tuple[int, str]:
        assert self.process is not None
        await asyncio.wait_for(asyncio.gather(self.process.wait(), *self._readers), timeout)
        return self.process.returncode or 0, self._stderr.decode()

    async def wait(self, timeout: float = 30) -> tuple[int, str]:
        """Let the process end by itself; its exit status and what it printed on stderr."""
        return await self._ended(timeout)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> tuple[int, str]:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await self._ended(timeout)

    async def kill_if_running(self) -> None:
        """SIGKILL, for a test's cleanup (`finally`): a process it did not stop itself."""
        if self.process is not None and self.process.returncode is None:
            await self.stop(signal.SIGKILL)
