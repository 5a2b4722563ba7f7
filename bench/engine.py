"""Benchmarks of the engine: committed steps per second, and loading a 1,000-node flow.

    .venv/bin/python bench/engine.py              # both, with the default sizes
    .venv/bin/python bench/engine.py --chats 500 --steps 20000
    git worktree add --detach /tmp/before HEAD~3  # the code before a change ...
    .venv/bin/python bench/engine.py --before /tmp/before --rounds 5 [--postgres]   # ... beside this one

Targets (2-core machine): at least 5,000 committed steps/s through engine + SQLite store
(every step's chat filed under its keyed hash, loaded, run, sealed and saved durably before
the next step of that chat) with a step's p99 under 50 ms, and a generated 1,000-node flow
loaded and checked in under 0.2 s.

With `--before`, each round measures the committed steps once for each checkout, one after
the other, each in a fresh process that imports that checkout's `bots` (the harness is this
file's in both), so that both see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
#: the checkout whose `bots` is measured (`--code`, given by `--before` to the processes it starts)
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else HERE
sys.path.insert(0, str(CODE))

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


async def committed_steps(chats: int, steps: int, synchronous: str, database: str | None = None) -> tuple[float, float, float]:
    """Steps per second, and the p50 and p99 step latency (ms), with every step committed."""
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

            async def one_step(index: int, event: ev.Event) -> tuple[str, ...]:
                began = time.perf_counter()
                key = ConversationKey("bench", store.vault.chat_key("bench", 10_000_000 + index))  # as bots run files it
                async with store.lock(key):
                    state = await store.load(key)
                    now = dt.datetime.now(dt.timezone.utc)
                    result = engine.step(state, event, StepContext(now=now, first_name="Alex"))
                    await store.save(key, result.state, now=now)
                latencies.append(time.perf_counter() - began)
                says = [o for o in result.outputs if isinstance(o, Say)]
                return tuple(b.data for b in says[-1].buttons) if says else ()

            async def person(index: int, quota: int) -> None:
                buttons = await one_step(index, ev.Start())
                for turn in range(quota - 1):
                    if buttons:
                        buttons = await one_step(index, ev.Press(buttons[turn % len(buttons)]))
                    else:
                        buttons = await one_step(index, event_from_text(str(1 + turn % 99)))

            per_chat = max(2, steps // chats)
            began = time.perf_counter()
            await asyncio.gather(*(person(i, per_chat) for i in range(chats)))
            elapsed = time.perf_counter() - began
        latencies.sort()
        return (
            len(latencies) / elapsed,
            latencies[len(latencies) // 2] * 1000,
            latencies[int(len(latencies) * 0.99)] * 1000,
        )


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


def throwaway_postgres() -> tuple[object, str | None]:
    """A PostgreSQL server for the run (synchronous_commit off: as durable as SQLite's NORMAL),
    or None and why not."""
    sys.path.insert(1, str(HERE))
    from tests.support import postgres

    reason = postgres.missing_reason()
    if reason is not None:
        return None, reason
    server = postgres.start_server(durable=True)
    server.psql("ALTER SYSTEM SET synchronous_commit = off")
    server.psql("SELECT pg_reload_conf()")
    return server, None


def measured(code: Path, args: argparse.Namespace, database: str | None) -> tuple[float, float, float]:
    """One measure of committed steps in a fresh process importing the `bots` of `code`."""
    command = [sys.executable, str(Path(__file__).resolve()), "--code", str(code), "--json"]
    command += ["--chats", str(args.chats), "--steps", str(args.steps), "--synchronous", args.synchronous]
    command += ["--database", database] if database else []
    found = subprocess.run(command, capture_output=True, text=True, check=True, cwd=code)
    rate, p50, p99 = json.loads(found.stdout)
    return float(rate), float(p50), float(p99)


def side_by_side(args: argparse.Namespace) -> None:
    """`--rounds` rounds of this checkout and `--before`, one after the other, on SQLite and
    (with `--postgres`) on PostgreSQL, a fresh database each time."""
    checkouts = {"this": HERE, "before": args.before.resolve()}
    server, reason = throwaway_postgres() if args.postgres else (None, None)
    if reason is not None:
        print(f"PostgreSQL: skipped: {reason}")
    engines = ["SQLite"] + (["PostgreSQL"] if server is not None else [])
    runs: dict[tuple[str, str], list[tuple[float, float, float]]] = {(e, n): [] for e in engines for n in checkouts}
    try:
        for round_ in range(1, args.rounds + 1):
            for engine in engines:
                for name, code in checkouts.items():
                    database = server.new_database() if engine == "PostgreSQL" else None  # type: ignore[attr-defined]
                    rate, p50, p99 = measured(code, args, database)
                    runs[engine, name].append((rate, p50, p99))
                    print(
                        f"round {round_}  {engine:10s} {name:6s} {rate:7,.0f} steps/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms",
                        flush=True,
                    )
    finally:
        if server is not None:
            from tests.support import postgres

            postgres.remove(server)  # type: ignore[arg-type]
    print(
        f"\n| engine | checkout | steps/s, each round | median steps/s | p99 ms, each round | median p99 ms |  ({args.chats} chats)"
    )
    print("|---|---|---|---:|---|---:|")
    for (engine, name), found in runs.items():
        rates = " / ".join(f"{r:,.0f}" for r, _, _ in found)
        p99s = " / ".join(f"{p:.0f}" for _, _, p in found)
        median_rate = statistics.median(r for r, _, _ in found)
        median_p99 = statistics.median(p for _, _, p in found)
        print(f"| {engine} | {name} | {rates} | {median_rate:,.0f} | {p99s} | {median_p99:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=textwrap.dedent(__doc__ or ""), formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    parser.add_argument("--before", type=Path, help="another checkout (the code before a change): committed steps side by side")
    parser.add_argument("--rounds", type=int, default=5, help="with --before: rounds of both")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # the checkout whose bots to import
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one measure, as JSON
    parser.add_argument("--database", help=argparse.SUPPRESS)  # with --json: a PostgreSQL URL
    args = parser.parse_args()

    if args.json:
        print(json.dumps(asyncio.run(committed_steps(args.chats, args.steps, args.synchronous, args.database))))
        return
    if args.before is not None:
        side_by_side(args)
        return
    rate, p50, p99 = asyncio.run(committed_steps(args.chats, args.steps, args.synchronous))
    print(
        f"committed steps: {rate:,.0f}/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms  "
        f"({args.chats} chats, {args.steps} steps, synchronous={args.synchronous})"
    )
    if args.postgres:
        server, reason = throwaway_postgres()
        if reason is not None:
            print(f"PostgreSQL: skipped: {reason}")
        else:
            from tests.support import postgres

            try:
                rate, p50, p99 = asyncio.run(committed_steps(args.chats, args.steps, args.synchronous, server.new_database()))  # type: ignore[attr-defined]
                print(
                    f"committed steps on PostgreSQL: {rate:,.0f}/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms  "
                    f"({args.chats} chats, {args.steps} steps)"
                )
            finally:
                postgres.remove(server)  # type: ignore[arg-type]
    median, best, warnings = load_time(args.nodes, args.repeats)
    print(
        f"load+check {args.nodes}-node flow, cold: median {median * 1000:.0f} ms, best {best * 1000:.0f} ms ({warnings} warnings)"
    )
    print("(warm and one-file-changed loads: bench/loading.py)")


if __name__ == "__main__":
    main()
