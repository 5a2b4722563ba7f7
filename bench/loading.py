"""Loading and checking a project with a 1,000-node flow: cold, warm (nothing changed), and with
one file changed, each as a process that has it in memory and as a fresh process that finds
the loader's disk cache (`bots.loader.cache`).

    .venv/bin/python bench/loading.py                        # this checkout
    git worktree add /tmp/before HEAD~3                      # the code before a change ...
    .venv/bin/python bench/loading.py --before /tmp/before   # ... and this one, side by side

With `--before`, each round runs every figure once for each checkout, one after the other in
fresh processes, so that both see the same load on the machine. A checkout without the loader
cache gets its warm figures from what it keeps in memory (its template caches) and its
fresh-process figures from a cold load, which is what it does.

Target (2-core machine): nothing changed, loaded and checked in under 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FIGURES = {
    "cold": "cold: a fresh process, nothing cached",
    "warm_memory": "nothing changed, in the same process (live reload, bots chat, the tests)",
    "warm_disk": "nothing changed, a fresh process (bots check again)",
    "changed_memory": "one small file changed, in the same process",
    "changed_disk": "one small file changed, a fresh process",
    "big_changed_memory": "the 1,000-node file itself changed, in the same process",
}

EXTRA = """\
start: hello
nodes:
  hello:
    type: choice
    text: "Change {n}: where to?"
    options:
      - {{label: "The long flow", next: "main:n0"}}
      - {{label: "Stay", next: bye}}
  bye:
    type: end
    text: "Bye."
"""


def measure(nodes: int) -> dict[str, float]:
    """Seconds for one run of every figure, in this process, on the code on `sys.path`."""
    import engine as bench  # the checkout's bench/engine.py: the project and flow it writes

    from bots.engine import expressions
    from bots.loader import load_project

    try:
        from bots.loader import cache
    except ImportError:  # code from before the cache
        cache = None

    def forget() -> None:  # as a fresh process starts
        if cache is not None:
            cache.forget()
        expressions.clear_caches()

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BOTS_CACHE_DIR"] = str(Path(tmp) / "cache")
        root = Path(tmp) / "project"
        root.mkdir()
        big = bench.big_flow(nodes)
        bench.write_project(root, {"main": big, "extra": EXTRA.format(n=0)})
        changes = iter(range(1, 1000))

        def timed(name: str) -> None:
            began = time.perf_counter()
            project, diagnostics = load_project(root)
            figures[name] = time.perf_counter() - began
            assert not diagnostics.errors, [d.render() for d in diagnostics.errors[:5]]
            assert len(project.bots["bench"].flows["main"].nodes) == nodes

        def change(name: str = "extra", text: str | None = None) -> None:
            path = root / "flows" / "bench" / f"{name}.yaml"
            path.write_text(text if text is not None else EXTRA.format(n=next(changes)))

        forget()
        timed("cold")
        timed("warm_memory")
        forget()
        timed("warm_disk")
        change()
        timed("changed_memory")
        forget()
        change()
        timed("changed_disk")
        change("main", big.replace("Step 0:", f"Step 0 ({next(changes)}):"))
        timed("big_changed_memory")
    return figures


def run_checkout(code: Path, nodes: int) -> dict[str, float]:
    """One run of every figure in a fresh process importing the `bots` of `code`."""
    script = Path(__file__).resolve()
    found = subprocess.run(
        [sys.executable, str(script), "--code", str(code), "--nodes", str(nodes), "--json"],
        capture_output=True, text=True, check=True, cwd=code,
    )  # fmt: skip
    return json.loads(found.stdout)


def summary(runs: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    return {name: (statistics.median(r[name] for r in runs), min(r[name] for r in runs)) for name in FIGURES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, help="another checkout (the code before a change) to measure beside this one")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # the checkout whose bots to import
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    if args.json:
        code = (args.code or here).resolve()
        sys.path[:0] = [str(code), str(code / "bench")]  # its bench/engine.py writes the project
        print(json.dumps(measure(args.nodes)))
        return
    checkouts = {"this": here} | ({"before": args.before.resolve()} if args.before else {})
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for _ in range(args.rounds):
        for name, code in checkouts.items():
            runs[name].append(run_checkout(code, args.nodes))
    results: dict[str, Any] = {name: summary(found) for name, found in runs.items()}
    head = "| figure (median / best of %d, ms) |" % args.rounds + "".join(f" {name} |" for name in checkouts)
    print(head)
    print("|---|" + "---:|" * len(checkouts))
    for figure, label in FIGURES.items():
        cells = "".join(f" {results[n][figure][0] * 1000:.0f} / {results[n][figure][1] * 1000:.0f} |" for n in checkouts)
        print(f"| {label} |{cells}")


if __name__ == "__main__":
    main()
