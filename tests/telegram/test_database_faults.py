"""Issue 18: the SQLite database cannot be written (the file may not grow: a full disk; another
connection holding a write lock past the busy timeout). Two bots in one `bots run` process:
nothing crashes, nothing unrecorded is confirmed to Telegram, the trouble is logged once with
what to do, and when writes succeed again every person is answered, nobody twice.

A full disk is made without root by lowering the process's file size limit (RLIMIT_FSIZE,
with `prlimit`): SQLite's writes then fail as they do on a full disk. (`PRAGMA max_page_count`,
which the issue suggests, holds for one connection only, so another process cannot set it.)
"""

from __future__ import annotations

import resource
import sqlite3

from bots.testing.standin import BotApiStandin
from tests.support.standin import TOKEN, answered_once, greeting
from tests.telegram.test_faults import ENV, UNION_TOKEN, api, project  # noqa: F401 - fixtures

CANNOT_WRITE = "the database cannot be written"
WRITES_AGAIN = "the database takes writes again"


def limit_file_size(pid: int, size: int) -> None:
    hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, hard))


async def nothing_sent_again(api: BotApiStandin, running, people: list) -> None:
    """Started again, the process sends nothing twice: what was journalled is marked done
    (a new person's answers from both bots are the barrier)."""
    before = {who.id: (len(api.messages(who, bot=TOKEN)), len(api.messages(who, bot=UNION_TOKEN))) for who in people}
    again = await running("--pace", "off", env=ENV).start()
    zoe = api.user("Zoe")
    assert (await greeting(api, zoe, bot=TOKEN)).text == "Hello, Zoe! Colour?"
    assert (await greeting(api, zoe, bot=UNION_TOKEN)).text == "Hello from the union, Zoe."
    code, errors = await again.stop()
    assert code == 0, errors
    assert before == {who.id: (len(api.messages(who, bot=TOKEN)), len(api.messages(who, bot=UNION_TOKEN))) for who in people}


async def test_a_full_disk_stops_nothing_and_loses_nothing(api: BotApiStandin, running) -> None:
    process = running("--pace", "off", env=ENV)
    process.global_args = ("-vv",)  # the barriers below are debug lines
    await process.start()
    assert process.process is not None
    alice, bob = api.user("Alice"), api.user("Bob")
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"
    limit_file_size(process.process.pid, 1)  # no file of the process may grow
    [question] = api.messages(alice, bot=TOKEN)
    await api.press(alice, question, "Red")
    await api.send_text(bob, "/start", bot=UNION_TOKEN)
    await process.logged(CANNOT_WRITE)
    await process.logged("union: recording updates")  # (-vv) tried and failed: not confirmed
    await process.logged("demo: recording updates")
    assert api.bot(UNION_TOKEN).queue.pending_count == 1 and api.bot(TOKEN).queue.pending_count == 1
    limit_file_size(process.process.pid, resource.RLIM_INFINITY)  # space freed
    await process.logged(WRITES_AGAIN)
    [size] = await api.wait_for_messages(alice, 1, timeout=30, bot=TOKEN)
    assert size.text == "Size for red?"
    [hello] = await api.wait_for_messages(bob, 1, timeout=30, bot=UNION_TOKEN)
    assert hello.text == "Hello from the union, Bob."
    code, errors = await process.stop()
    assert code == 0, errors
    assert "Traceback" not in errors and "unexpected" not in errors, errors
    assert errors.count(CANNOT_WRITE) == 1, errors
    answered_once(api, [bob], UNION_TOKEN)
    assert len(api.messages(alice, bot=TOKEN)) == 2
    await nothing_sent_again(api, running, [alice, bob])


async def test_a_lock_held_past_the_busy_timeout_stops_nothing_and_loses_nothing(api: BotApiStandin, running, tmp_path) -> None:
    process = running("--pace", "off", env=ENV)
    process.global_args = ("-vv",)
    await process.start()
    alice, bob = api.user("Alice"), api.user("Bob")
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"
    holder = sqlite3.connect(process.db, timeout=10, isolation_level=None)  # a backup, the sqlite3 shell
    try:
        holder.execute("BEGIN EXCLUSIVE")
        [question] = api.messages(alice, bot=TOKEN)
        await api.press(alice, question, "Blue")
        await api.send_text(bob, "/start", bot=UNION_TOKEN)
        await process.logged(CANNOT_WRITE, timeout=60)  # after the busy timeout (5 s)
        assert api.bot(UNION_TOKEN).queue.pending_count == 1 and api.bot(TOKEN).queue.pending_count == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await process.logged(WRITES_AGAIN, timeout=60)
    [size] = await api.wait_for_messages(alice, 1, timeout=60, bot=TOKEN)
    assert size.text == "Size for blue?"
    [hello] = await api.wait_for_messages(bob, 1, timeout=60, bot=UNION_TOKEN)
    assert hello.text == "Hello from the union, Bob."
    code, errors = await process.stop()
    assert code == 0, errors
    assert "Traceback" not in errors and "unexpected" not in errors, errors
    assert errors.count(CANNOT_WRITE) == 1, errors
    assert "another program holds the database locked longer than the busy timeout" in errors
    answered_once(api, [bob], UNION_TOKEN)
    assert len(api.messages(alice, bot=TOKEN)) == 2
    await nothing_sent_again(api, running, [alice, bob])
