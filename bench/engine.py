"""Benchmarks of the engine: committed steps per second, and loading a 1,000-node flow.

    .venv/bin/python bench/engine.py              # both, with the default sizes
    .venv/bin/python bench/engine.py --chats 500 --steps 20000

Targets (2-core machine): at least 2,000 committed steps/s through engine + SQLite store
(every step loaded, run and saved durably before the next step of that chat), and a
generated 1,000-node flow loaded and checked in under 0.2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.engine import (  # noqa: E402
    Engine,
    StepContext,
    event_from_text,
    expressions,  # noqa: E402
)
from bots.engine import events as ev  # noqa: E402
from bots.engine.outputs import Say  # noqa: E402
from bots.loader import load_project  # noqa: E402
from bots.storage import ConversationKey, SQLiteConversationStore  # noqa: E402
from bots.storage.postgres import PostgresConversationStore  # noqa: E402

BOT = """\
name: Bench
start: main
source_locale: en
locales: [en]
token_env: BENCH_TOKEN
"""

DIALOGUE = """\
start: menu
nodes:
  menu:
    type: choice
    text: "Hello, {{ user.first_name }}! What do you need?"
    save: need
    options:
      - {label: "Support", value: support}
      - {label: "Other", value: other}
    next: count
  count:
    type: input
    kind: number
    text: "How many ({{ need }})?"
    min: 1
    max: 100
    save: count
    next: check
  check:
    type: branch
    cases:
      - when: "count > 50"
        next: big
    else: confirm
  big:
    type: message
    text: "That is a lot."
    next: confirm
  confirm:
    type: choice
    text: "{{ count }} for {{ need }}: right?"
    options:
      - {label: "Yes", next: menu}
      - {label: "No", next: count}
"""


def write_project(root: Path, flows: dict[str, str]) -> None:
    (root / "flows" / "bench").mkdir(parents=True)
    (root / "flows" / "bench" / "bot.yaml").write_text(BOT)
    for name, text in flows.items():
        (root / "flows" / "bench" / f"{name}.yaml").write_text(text)


async def committed_steps(chats: int, steps: int, synchronous: str, database: str | None = None) -> tuple[float, float]:
    """Steps per second and the p99 step latency (ms) with every step committed."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, {"main": DIALOGUE})
        project, diagnostics = load_project(root)
        assert not diagnostics.errors, diagnostics.errors
        engine = Engine(project, "bench")
        latencies: list[float] = []
        store_made = (
            PostgresConversationStore(database)
            if database
            else SQLiteConversationStore(root / "bench.db", synchronous=synchronous)
        )
        async with store_made as store:

            async def one_step(key: ConversationKey, event: ev.Event) -> tuple[str, ...]:
                began = time.perf_counter()
                async with store.lock(key):
                    state = await store.load(key)
                    now = dt.datetime.now(dt.timezone.utc)
                    result = engine.step(state, event, StepContext(now=now, first_name="Alex"))
                    await store.save(key, result.state, now=now)
                latencies.append(time.perf_counter() - began)
                says = [o for o in result.outputs if isinstance(o, Say)]
                return tuple(b.data for b in says[-1].buttons) if says else ()

            async def person(index: int, quota: int) -> None:
                key = ConversationKey("bench", f"chat-{index}")
                buttons = await one_step(key, ev.Start())
                for turn in range(quota - 1):
                    if buttons:
                        buttons = await one_step(key, ev.Press(buttons[turn % len(buttons)]))
                    else:
                        buttons = await one_step(key, event_from_text(str(1 + turn % 99)))

            per_chat = max(2, steps // chats)
            began = time.perf_counter()
            await asyncio.gather(*(person(i, per_chat) for i in range(chats)))
            elapsed = time.perf_counter() - began
        latencies.sort()
        return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)] * 1000


def big_flow(nodes: int) -> str:
    """A flow of `nodes` nodes of every kind, chained so that all are reachable."""
    lines = ["start: n0", "nodes:"]
    kinds = ["message", "choice", "input", "branch", "set"]
    for i in range(nodes):
        nxt = f"n{i + 1}" if i + 1 < nodes else None
        kind = kinds[i % len(kinds)] if nxt else "end"
        body = {
            "message": f'    type: message\n    text: "Step {i}: {{{{ v{i - 1} }}}} ok"\n    next: {nxt}',
            "choice": (
                f'    type: choice\n    text: "Question {i}?"\n    save: v{i}\n    options:\n'
                f'      - {{label: "Yes {i}", value: yes, next: {nxt}}}\n'
                f'      - {{label: "No {i}", value: "no"}}\n    next: {nxt}'
            ),
            "input": f'    type: input\n    kind: number\n    text: "Number {i}?"\n    min: 0\n    save: v{i}\n    next: {nxt}',
            "branch": f"    type: branch\n    cases:\n      - when: \"v{i - 2} == 'yes'\"\n        next: {nxt}\n    else: {nxt}",
            "set": f'    type: set\n    values:\n      v{i}: "v{i - 2} + 1"\n    next: {nxt}',
            "end": '    type: end\n    text: "Done."',
        }[kind]
        lines.append(f"  n{i}:\n{body}")
    return "\n".join(lines) + "\n"


def forget_loads() -> None:
    """Nothing parsed kept in memory, nor on disk (`bench/loading.py` measures the warm loads)."""
    os.environ["BOTS_CACHE_DIR"] = "off"
    try:
        from bots.loader import cache
    except ImportError:  # the code before the loader's cache
        expressions.clear_caches()
    else:
        cache.forget()


def load_time(nodes: int, repeats: int) -> tuple[float, float, int]:
    """Median and best seconds to load and check a project with one `nodes`-node flow, cold."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, {"main": big_flow(nodes)})
        times = []
        warnings = 0
        for _ in range(repeats):
            forget_loads()  # a cold load every time, as a fresh process with nothing cached has
            began = time.perf_counter()
            project, diagnostics = load_project(root)
            times.append(time.perf_counter() - began)
            assert not diagnostics.errors, [d.render() for d in diagnostics.errors[:5]]
            assert len(project.bots["bench"].flows["main"].nodes) == nodes
            warnings = len(diagnostics.warnings)
        return statistics.median(times), min(times), warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or ""))
    parser.add_argument("--chats", type=int, default=200, help="conversations running at once")
    parser.add_argument("--steps", type=int, default=20_000, help="steps in all")
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also on PostgreSQL: a throw-away server (tests/support/postgres.py), synchronous_commit off",
    )
    args = parser.parse_args()

    rate, p99 = asyncio.run(committed_steps(args.chats, args.steps, args.synchronous))
    print(
        f"committed steps: {rate:,.0f}/s  p99 {p99:.2f} ms  ({args.chats} chats, {args.steps} steps, synchronous={args.synchronous})"
    )
    if args.postgres:
        from tests.support import postgres

        reason = postgres.missing_reason()
        if reason is not None:
            print(f"PostgreSQL: skipped: {reason}")
        else:
            server = postgres.start_server(durable=True)
            try:
                server.psql("ALTER SYSTEM SET synchronous_commit = off")  # as durable as SQLite's NORMAL
                server.psql("SELECT pg_reload_conf()")
                rate, p99 = asyncio.run(committed_steps(args.chats, args.steps, args.synchronous, server.new_database()))
                print(f"committed steps on PostgreSQL: {rate:,.0f}/s  p99 {p99:.2f} ms  ({args.chats} chats, {args.steps} steps)")
            finally:
                postgres.remove(server)
    median, best, warnings = load_time(args.nodes, args.repeats)
    print(
        f"load+check {args.nodes}-node flow, cold: median {median * 1000:.0f} ms, best {best * 1000:.0f} ms ({warnings} warnings)"
    )
    print("(warm and one-file-changed loads: bench/loading.py)")


if __name__ == "__main__":
    main()
