"""Several workers on one PostgreSQL database, through the Bot API stand-in.

- Polling: two `bots run` on one database; one holds the poll lease. A burst from 40 chats,
  and the poller is killed with SIGKILL in the middle: the survivor takes the lease over,
  nothing is lost, each chat's replies keep their order, at most the calls in flight at the
  kill are repeated.
- Webhook: two workers behind one address (a round-robin proxy here, as nginx or Caddy
  would be), and every update also given to the other worker (a redelivery): each update is
  answered once, in order.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bots.testing.standin import BotApiStandin
from tests.support.commands import BotProcess
from tests.support.net import free_port
from tests.support.project import write_project
from tests.support.standin import check_echoes, echoes, escalate
from tests.support.store import TABLES_WITH_CHATS, chat_key, keyed_store, rows_about_in
from tests.telegram.conftest import ECHO

CHATS = 40
BURST = 6


@pytest.fixture
def echo_project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "echo", {"flows/demo/main.yaml": ECHO})


def worker(project: Path, api: BotApiStandin, url: str, *args: str) -> BotProcess:
    process = BotProcess(project, api, Path("unused.db"), "--pace", "off", "--no-reload", *args, env={"BOTS_DATABASE_URL": url})
    return process


async def lease_holder(url: str, name: str) -> str | None:
    async with keyed_store(url) as store:
        return await store.lease_holder(name)


async def test_two_polling_workers_one_killed_mid_burst(api: BotApiStandin, echo_project: Path, postgres_url: str) -> None:
    people = [api.user(f"P{i}") for i in range(CHATS)]
    first = await worker(echo_project, api, postgres_url).start()
    second = None
    try:
        for person in people[:2]:
            await api.send_text(person, "/start")
        for person in people[:2]:
            await api.wait_for_messages(person, 1, timeout=30)
        poller = await lease_holder(postgres_url, "poll demo")
        assert poller is not None and poller.split(":")[1] == str(first.process.pid)  # type: ignore[union-attr]
        second = await worker(echo_project, api, postgres_url).start()
        for person in people[2:]:
            await api.send_text(person, "/start")
        for person in people[2:]:
            await api.wait_for_messages(person, 1, timeout=30)

        async def burst(person: object) -> None:
            for n in range(BURST):
                await api.send_text(person, f"m{n}")  # type: ignore[arg-type]
                await asyncio.sleep(0.01)  # a burst spread out a little, so that the kill lands inside it

        sending = asyncio.gather(*(burst(p) for p in people))
        await api.wait_until(lambda: sum(len(echoes(api, p)) for p in people) >= CHATS * BURST // 3, timeout=60)
        await first.stop(signal.SIGKILL)
        await sending

        expected = [f"You said m{n}" for n in range(BURST)]
        for person in people:  # the lease expires and the survivor polls: within 10 s
            await api.wait_until(lambda p=person: echoes(api, p)[-1:] == [expected[-1]], timeout=60)
        poller = await lease_holder(postgres_url, "poll demo")
        assert poller is not None and poller.split(":")[1] == str(second.process.pid)  # type: ignore[union-attr]
        code, errors = await second.stop()
        assert code == 0, errors
    finally:
        for process in (first, second):
            if process is not None:
                await process.kill_if_running()
    # at most the calls in flight at the kill: one per chat
    check_echoes(api, people, [f"You said m{n}" for n in range(BURST)], repeats_allowed=1)


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """A reverse proxy at one address: each update goes to the next worker in turn, and a copy
    to the other one (Telegram redelivering, or a second worker's copy)."""
    port = free_port()
    backends: list[str] = []
    turn = itertools.count()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        first = next(turn) % len(backends)
        order = [backends[first], backends[1 - first]] if len(backends) == 2 else backends
        statuses = []
        async with aiohttp.ClientSession() as session:
            for base in order:
                async with session.post(base + request.path, data=body, headers=headers) as response:
                    statuses.append(response.status)
        return web.Response(status=statuses[0])

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/hook", backends
    finally:
        await runner.cleanup()


async def test_two_webhook_workers_behind_one_address_answer_each_update_once(
    api: BotApiStandin, echo_project: Path, postgres_url: str, proxy: tuple[str, list[str]]
) -> None:
    public, backends = proxy
    people = [api.user(f"W{i}") for i in range(20)]
    processes = []
    try:
        for _ in range(2):
            port = free_port()
            backends.append(f"http://127.0.0.1:{port}")
            processes.append(
                await worker(
                    echo_project, api, postgres_url, "--webhook", public, "--listen", "127.0.0.1", "--port", str(port)
                ).start()
            )
            await api.wait_until(lambda: api.webhook_info().get("url"), timeout=20)
        for person in people:
            await api.send_text(person, "/start")
        for person in people:
            await api.wait_for_messages(person, 1, timeout=30)

        async def burst(person: object) -> None:
            for n in range(BURST):
                await api.send_text(person, f"m{n}")  # type: ignore[arg-type]

        await asyncio.gather(*(burst(p) for p in people))
        expected = [f"You said m{n}" for n in range(BURST)]
        for person in people:
            await api.wait_until(lambda p=person: echoes(api, p)[-1:] == [expected[-1]], timeout=60)
        # a later message's answer is the barrier: nothing more comes for what came before
        last = people[0]
        await api.send_text(last, "after")
        await api.wait_until(lambda: echoes(api, last)[-1:] == ["You said after"], timeout=30)
        for process in processes:
            code, errors = await process.stop()
            assert code == 0, errors
    finally:
        for process in processes:
            await process.kill_if_running()
    check_echoes(api, people[1:], expected, repeats_allowed=0)
    assert api.webhook_info()["pending_update_count"] == 0


#: the rows of a chat, with its flood counters (kept in the database with several workers)
CHAT_ROWS = (*TABLES_WITH_CHATS, "flood")


async def test_handoffs_and_forget_with_two_workers(api: BotApiStandin, desk_project: Path, postgres_url: str) -> None:
    """A moderator's actions and the person's messages reach whichever worker; what one
    worker writes (the handoff, /forget) is what the other sees."""
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    env = {"BOTS_DATABASE_URL": postgres_url, "DEMO_MODERATORS": str(group.id)}
    workers = [BotProcess(desk_project, api, Path("unused.db"), "--pace", "off", "--no-reload", env=env) for _ in range(2)]
    try:
        for process in workers:
            await process.start()
        bob, carol = api.user("Bob"), api.user("Carol")
        await escalate(api, bob)
        await escalate(api, carol, "Brest")
        topic = await api.wait_until(lambda: next((t for t in api.topics(group) if "Minsk" in t.name), None), timeout=15)
        await api.send_text(bob, "hello")
        await api.wait_until(lambda: any(m.text == "hello" for m in api.messages(group, topic=topic)), timeout=15)
        await api.send_text(anna, "We are here.", chat=group, topic=topic)
        [answer] = await api.wait_for_messages(bob, 1, timeout=15)
        assert answer.text == "We are here."
        await api.send_text(anna, "/close", chat=group, topic=topic)
        ended, after = await api.wait_for_messages(bob, 2, timeout=15)
        assert ended.text == "The conversation with our team has ended." and after.text == "Anything else?"

        await api.send_text(bob, "/forget")
        [confirm] = await api.wait_for_messages(bob, 1, timeout=15)
        await api.press(bob, confirm, "Yes, delete everything")
        [done] = await api.wait_for_messages(bob, 1, timeout=15)
        assert done.text.startswith("Done: I have deleted everything I kept about you.")
        await api.wait_until(lambda: topic.deleted, timeout=15)
        for process in workers:
            code, errors = await process.stop()
            assert code == 0, errors
    finally:
        for process in workers:
            await process.kill_if_running()
    assert await rows_about_in(postgres_url, chat_key(bob.id), CHAT_ROWS) == dict.fromkeys(CHAT_ROWS, 0)
    carol_rows = await rows_about_in(postgres_url, chat_key(carol.id), CHAT_ROWS)
    assert carol_rows["conversations"] == 1 and carol_rows["handoffs"] == 1


async def test_the_database_stopped_and_started_loses_nothing(
    api: BotApiStandin, echo_project: Path, postgres_server: object, postgres_url: str
) -> None:
    """PostgreSQL goes away while a worker polls: nothing is confirmed to Telegram that was
    not recorded, the worker waits instead of stopping, and once the server is back every
    message is answered, once."""
    people = [api.user(f"D{i}") for i in range(3)]
    process = await worker(echo_project, api, postgres_url).start()
    try:
        for person in people:
            await api.send_text(person, "/start")
        for person in people:
            await api.wait_for_messages(person, 1, timeout=30)
        postgres_server.stop()  # type: ignore[attr-defined]
        try:
            for person in people:
                await api.send_text(person, "while down")
            # the bot keeps asking, and is told nothing new is confirmed: the updates stay with Telegram
            await api.wait_until(lambda: len(api.calls_to("getUpdates")) >= 3, timeout=30)
        finally:
            postgres_server.start()  # type: ignore[attr-defined]
        for person in people:
            await api.wait_until(lambda p=person: echoes(api, p) == ["You said while down"], timeout=60)
        await api.send_text(people[0], "after")  # the barrier: a later message's answer
        await api.wait_until(lambda: echoes(api, people[0])[-1:] == ["You said after"], timeout=30)
        code, errors = await process.stop()
        assert code == 0, errors
    except BaseException:
        if process.process is not None and process.process.returncode is None:
            print((await process.stop(signal.SIGTERM))[1][-3000:])
        raise
    finally:
        await process.kill_if_running()
    for person in people:
        assert echoes(api, person)[:1] == ["You said while down"] and echoes(api, person).count("You said while down") == 1
