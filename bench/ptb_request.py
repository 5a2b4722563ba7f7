"""sendMessage calls/s through python-telegram-bot: HTTPXRequest vs AiohttpRequest.

    .venv/bin/python bench/ptb_request.py                    # table, concurrency 1, 16, 128
    .venv/bin/python bench/ptb_request.py --calls 5000 --rounds 5
    .venv/bin/python bench/ptb_request.py --profile aiohttp  # cProfile one run (or: httpx)

The Bot API stand-in runs in its own process on 127.0.0.1 (as Telegram would be elsewhere),
so client and server do not share an event loop. ``raw aiohttp`` is the same POST without
PTB: the ceiling the stand-in allows on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ holds a telegram.py of its own: keep the script folder off the path so `telegram` is PTB
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]
os.environ.setdefault("PTB_TIMEDELTA", "true")

import aiohttp  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bots.telegram.request import AiohttpRequest  # noqa: E402

TOKEN = "123456:bench-token"
BACKENDS: dict[str, Callable[[], BaseRequest]] = {
    "HTTPXRequest": lambda: HTTPXRequest(connection_pool_size=256),
    "AiohttpRequest": lambda: AiohttpRequest(connection_pool_size=256),
}
Send = Callable[[], Awaitable[object]]


class Standin:
    """``python -m bots.testing.standin`` in a child process; ``base_url`` and a user's chat id."""

    def __enter__(self) -> Standin:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bots.testing.standin",
                "--port",
                "0",
                "--token",
                TOKEN,
                "--user",
                "Bench",
                "--call-log-size",
                "0",
                "--max-messages-per-chat",
                "50",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        info: dict[str, str] = {}
        while "base_url" not in info:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the stand-in did not start")
            key, _, value = line.strip().partition(" ")
            info[key] = value
        self.chat_id = int(info["user"].split()[0])
        self.base_url = info["base_url"]
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def run(send: Send, calls: int, concurrency: int) -> float:
    """Calls per second for ``calls`` sends spread over ``concurrency`` workers."""
    per_worker = calls // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            await send()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - started)


async def measure(name: str, standin: Standin, concurrency: int, calls: int, rounds: int) -> float:
    """Best-of-``rounds`` calls/s for one backend (``raw aiohttp``: no PTB) at one concurrency."""
    if name == "raw aiohttp":
        url = f"{standin.base_url}{TOKEN}/sendMessage"
        body = f"chat_id={standin.chat_id}&text=hello".encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:

            async def raw() -> bytes:
                async with session.post(url, data=body, headers=headers) as resp:
                    return await resp.read()

            await run(raw, 200, min(concurrency, 200))
            return max([await run(raw, calls, concurrency) for _ in range(rounds)])
    async with Bot(TOKEN, base_url=standin.base_url, request=BACKENDS[name]()) as bot:

        async def ptb() -> object:
            return await bot.send_message(standin.chat_id, "hello")

        await run(ptb, 200, min(concurrency, 200))  # warm up: connections, caches
        return max([await run(ptb, calls, concurrency) for _ in range(rounds)])


async def table(standin: Standin, concurrencies: list[int], calls: int, rounds: int) -> None:
    names = ["raw aiohttp", *BACKENDS]
    results = {(n, c): await measure(n, standin, c, calls if c > 1 else calls // 4, rounds) for c in concurrencies for n in names}
    print("\nsendMessage calls/s (best of %d; stand-in in its own process)\n" % rounds)
    print("| concurrency | " + " | ".join(names) + " | aiohttp / httpx |")
    print("|---:|" + "---:|" * (len(names) + 1))
    for c in concurrencies:
        ratio = results["AiohttpRequest", c] / results["HTTPXRequest", c]
        print(f"| {c} | " + " | ".join(f"{results[n, c]:,.0f}" for n in names) + f" | {ratio:.2f}x |")


async def profile(standin: Standin, backend: str, concurrency: int, calls: int) -> None:
    async with Bot(TOKEN, base_url=standin.base_url, request=BACKENDS[backend]()) as bot:

        async def ptb() -> object:
            return await bot.send_message(standin.chat_id, "hello")

        await run(ptb, 200, concurrency)
        prof = cProfile.Profile()
        prof.enable()
        rate = await run(ptb, calls, concurrency)
        prof.disable()
    print(f"{backend} at concurrency {concurrency}: {rate:,.0f} calls/s (under cProfile)")
    stats = pstats.Stats(prof).strip_dirs().sort_stats("tottime")
    stats.print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=4000, help="calls per run (a quarter at concurrency 1)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per cell; the best is shown")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 128])
    parser.add_argument("--profile", choices=["httpx", "aiohttp"], help="cProfile one backend instead")
    args = parser.parse_args()
    with Standin() as standin:
        if args.profile:
            name = "HTTPXRequest" if args.profile == "httpx" else "AiohttpRequest"
            asyncio.run(profile(standin, name, max(args.concurrency), args.calls))
        else:
            asyncio.run(table(standin, args.concurrency, args.calls, args.rounds))
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs, aiohttp {aiohttp.__version__}")


if __name__ == "__main__":
    main()
