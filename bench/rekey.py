"""`bots db rekey` on a database of N conversations (and some of every other sealed thing),
on SQLite and on a throw-away PostgreSQL server: the time the command reports, its wall
time as a process (Python's start included) and its peak memory.

    .venv/bin/python bench/rekey.py [--conversations 10000] [--engine sqlite postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bots.privacy.vault import Vault, new_key, parse_key  # noqa: E402
from bots.storage import store_at  # noqa: E402
from tests.storage.test_rekey import seed  # noqa: E402


async def make(location: str, key: str, people: int) -> None:
    async with store_at(location, Vault(parse_key(key))) as store:
        await seed(store, people)


def measure(location: str, people: int) -> dict[str, object]:
    old, new = new_key(), new_key()
    asyncio.run(make(location, old, people))
    env = {**os.environ, "BOTS_SECRET_KEY": old, "NEW_KEY": new}
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "bots", "db", "rekey", "--new-key-env", "NEW_KEY", "--db", location],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    out = child.stdout.read() if child.stdout else ""
    err = child.stderr.read() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bots db rekey failed: {err}")
    said = re.search(r" in ([0-9.]+) s: ", out)
    return {"reported_s": float(said.group(1)) if said else None, "wall_s": round(wall, 2), "peak_mb": usage.ru_maxrss // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--engine", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, {args.conversations} conversations")
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in args.engine:
            print("sqlite", measure(str(Path(folder) / "bots.db"), args.conversations))
        if "postgresql" in args.engine:
            from tests.support import postgres

            reason = postgres.missing_reason()
            if reason is not None:
                sys.exit(f"PostgreSQL: {reason}")
            server = postgres.start_server(durable=True)
            try:
                print("postgresql", measure(server.new_database(), args.conversations))
            finally:
                postgres.remove(server)


if __name__ == "__main__":
    main()
