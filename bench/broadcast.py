"""Benchmark of `bots broadcast`: 10,000 subscribers, the stand-in enforcing 30 messages/s per bot.

    .venv/bin/python bench/broadcast.py                     # 10,000 subscribers: about 6 minutes
    .venv/bin/python bench/broadcast.py --subscribers 600   # a quick run

The stand-in (in this process) answers any sendMessage beyond 30 in one second with a 429, as
Telegram's flood control does. The subscribers (a third each in en, ru and be) are written
straight into a fresh database through the news tables. `bots broadcast` runs as a
subprocess; once about 40% of the messages are accepted it is killed with SIGKILL, then the
same command is started again and left to finish. Checked and recorded:

- the achieved rate: messages the stand-in accepted per second while a broadcast process was
  sending (from its first to its last accepted message, each run; the restart gap excluded),
  which must be within 5% of 30/s;
- no 429 left unhandled: every subscriber ends `sent` except the messages in flight at the
  kill, which are reported "not resent after a crash" (and may or may not have arrived);
- no duplicate: the stand-in's own count of accepted sendMessage per chat is at most 1.

Writes JSON to ``bench/results/broadcast-<date>.json`` (``--json PATH`` to change).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

# bench/telegram.py would shadow the telegram package: keep this folder off sys.path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.broadcast import PER_SECOND, NewsStore  # noqa: E402
from bots.privacy.vault import Vault, new_key  # noqa: E402
from bots.testing.standin import BotApiStandin  # noqa: E402
from bots.testing.standin.world import BotState  # noqa: E402

HERE = Path(__file__).resolve().parent
TOKEN = "7000004:bench-broadcast-token"
BOT = "bench"
PACE = 30.0
LANGS = ["en", "ru", "be"]
BOT_YAML = f"name: Bench\nstart: main\nsource_locale: en\nlocales: [{', '.join(LANGS)}]\ntoken_env: BENCH_BOT_TOKEN\n"
MAIN_YAML = "start: hello\nnodes:\n  hello: {type: end, text: Hello}\n"
NEWS = """\
## en
**This week**: the assistant helped *1,000* people. Thank you!

- consultations on Monday
- [read more](https://example.org/news)

## ru
**На этой неделе** ассистент помог *1000* людям. Спасибо!

## be
**На гэтым тыдні** асістэнт дапамог *1000* людзям. Дзякуй!
"""
TALLY = re.compile(r"sent (\d+), blocked (\d+), failed (\d+)(?:, not resent after a crash: (\d+))?")


class Standin(BotApiStandin):
    """The stand-in, noting when each sendMessage was accepted or refused (O(1) per call)."""

    def __init__(self) -> None:
        super().__init__(tokens=[TOKEN], call_log_size=0, http_control=False)
        self.accepted: list[tuple[float, int]] = []  # (time, chat id)
        self.refused: Counter[int] = Counter()  # HTTP status -> calls

    async def call(
        self, bot: BotState, method: str, raw: dict[str, Any], uploads: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        status, body = await super().call(bot, method, raw, uploads)
        if method.lower() == "sendmessage":
            if status == 200:
                self.accepted.append((time.monotonic(), int(body["result"]["chat"]["id"])))
            else:
                self.refused[status] += 1
        return status, body


def rate_of(times: list[float]) -> tuple[int, float]:
    """(messages, seconds from the first to the last) of one run."""
    return len(times), (times[-1] - times[0]) if len(times) > 1 else 0.0


async def bench(subscribers: int, kill_at: float, workdir: Path) -> dict[str, Any]:
    project = workdir / "project"
    (project / "flows" / BOT).mkdir(parents=True)
    (project / "flows" / BOT / "bot.yaml").write_text(BOT_YAML)
    (project / "flows" / BOT / "main.yaml").write_text(MAIN_YAML)
    (project / "news.md").write_text(NEWS, encoding="utf-8")
    db = workdir / "bots.db"
    key = new_key()
    vault = Vault.from_env({"BOTS_SECRET_KEY": key})
    assert vault is not None

    api = Standin()
    await api.start()
    try:
        started = time.perf_counter()
        people = [api.user(f"P{i}", language_code=LANGS[i % 3]) for i in range(subscribers)]
        now = dt.datetime.now(dt.timezone.utc)
        async with NewsStore(db, vault=vault) as store:
            await asyncio.gather(
                *(store.subscribe(BOT, vault.chat_key(BOT, p.id), p.id, LANGS[i % 3], now=now) for i, p in enumerate(people))
            )
            assert await store.subscriber_count(BOT) == subscribers
        setup = time.perf_counter() - started
        print(f"{subscribers} subscribers ready in {setup:.1f}s", file=sys.stderr)
        api.rate_limits(per_bot_per_second=PACE)

        env = {
            **os.environ,
            "TELEGRAM_API_URL": api.base_url,
            "BENCH_BOT_TOKEN": TOKEN,
            "BOTS_SECRET_KEY": key,
            "PTB_TIMEDELTA": "true",
        }
        command = [sys.executable, "-m", "bots", "broadcast", BOT, "news.md", "--db", str(db)]
        runs: list[dict[str, Any]] = []
        outputs: list[str] = []

        async def run(kill_after: int | None) -> None:
            log = workdir / f"run{len(runs) + 1}.err"
            with log.open("wb") as err:
                t0 = time.monotonic()
                before = len(api.accepted)
                refused_before = api.refused.get(429, 0)
                process = await asyncio.create_subprocess_exec(
                    *command, cwd=project, env=env, stdout=asyncio.subprocess.PIPE, stderr=err
                )
                killed = False
                if kill_after is not None:
                    while len(api.accepted) < kill_after and process.returncode is None:
                        await asyncio.sleep(0.01)
                    if process.returncode is None:
                        process.send_signal(signal.SIGKILL)
                        killed = True
                out, _ = await process.communicate()
                await asyncio.sleep(0.3)  # a message in flight at the kill lands, or not
            times = [t for t, _ in api.accepted[before:]]
            count, span = rate_of(times)
            # how close the run came to the limit: the shortest time in which 31 messages were accepted
            # (under 1 s would have broken it; the stand-in answers such a message with a 429 instead)
            closest = min((times[k] - times[k - 30] for k in range(30, len(times))), default=None)
            runs.append(
                {
                    "killed": killed,
                    "exit": process.returncode,
                    "accepted": count,
                    "seconds": round(span, 2),
                    "rate": round((count - 1) / span, 2) if span else None,
                    "wall": round(time.monotonic() - t0, 2),
                    "closest_31_in_seconds": round(closest, 4) if closest is not None else None,
                    "429s": api.refused.get(429, 0) - refused_before,
                }
            )
            outputs.append(out.decode())
            print(f"run {len(runs)}: {runs[-1]}", file=sys.stderr)

        await run(int(subscribers * kill_at) if kill_at > 0 else None)
        if kill_at > 0:
            await run(None)

        per_chat = Counter(chat for _, chat in api.accepted)
        duplicates = sum(1 for n in per_chat.values() if n > 1)
        missing = subscribers - len(per_chat)
        last = TALLY.search(outputs[-1])
        tally = (
            {"sent": int(last[1]), "blocked": int(last[2]), "failed": int(last[3]), "not_resent_after_crash": int(last[4] or 0)}
            if last
            else None
        )
        messages = sum(r["accepted"] - 1 for r in runs if r["accepted"] > 1)
        seconds = sum(r["seconds"] for r in runs)
        rate = messages / seconds if seconds else 0.0
        checks = {
            "rate_within_5_percent": abs(rate - PACE) <= 0.05 * PACE,
            "no_duplicate": duplicates == 0,
            "all_sent_but_in_flight_at_kill": bool(
                tally
                and tally["sent"] + tally["not_resent_after_crash"] == subscribers
                and tally["failed"] == 0
                and missing <= tally["not_resent_after_crash"]
            ),
        }
        return {
            "date": dt.date.today().isoformat(),
            "python": platform.python_version(),
            "subscribers": subscribers,
            "limit_per_second": PACE,
            "broadcast_pace": PER_SECOND,
            "kill_at": kill_at,
            "setup_seconds": round(setup, 1),
            "runs": runs,
            "achieved_rate": round(rate, 2),
            "stand_in_429s": api.refused.get(429, 0),
            "stand_in_other_refusals": {str(k): v for k, v in api.refused.items() if k != 429},
            "chats_with_a_message": len(per_chat),
            "chats_with_two_or_more": duplicates,
            "chats_without": missing,
            "final_tally": tally,
            "final_output": outputs[-1].strip(),
            "checks": checks,
        }
    finally:
        await api.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000, help="how many (default 10,000: about 6 minutes)")
    parser.add_argument(
        "--kill-at", type=float, default=0.4, help="SIGKILL the first run once this share is sent, then start again (0: no kill)"
    )
    parser.add_argument("--json", metavar="PATH", help="default: bench/results/broadcast-<date>.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as folder:
        report = asyncio.run(bench(args.subscribers, args.kill_at, Path(folder)))
    out = Path(args.json) if args.json else HERE / "results" / f"broadcast-{report['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(
        json.dumps(
            {
                k: report[k]
                for k in ("achieved_rate", "stand_in_429s", "chats_with_two_or_more", "chats_without", "final_tally", "checks")
            },
            indent=2,
        )
    )
    print(f"wrote {out}", file=sys.stderr)
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
