"""`bots broadcast`: news to subscribers through the Bot API stand-in, each in their language,
at the pace, and never twice, even when killed half-way and started again."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import re
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.broadcast import (
    PER_SECOND,
    Broadcast,
    BroadcastError,
    NewsStore,
    Progress,
    Tally,
    _never_sent,
    command,
    load_news,
)
from bots.loader import load_project
from bots.privacy.vault import Vault
from bots.storage.sql_news import news_forget_statements
from bots.telegram.app import make_bot
from bots.testing.standin import BotApiStandin, Person
from tests.support import project as support_project
from tests.support import store as support_store
from tests.support.commands import bots_env, ended, environment, start_bots
from tests.support.project import write_project
from tests.support.standin import TOKEN

BOT = "demo"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
BOT_YAML = support_project.BOT_YAML.replace("locales: [en, ru]", "locales: [en, ru, be]")
MAIN = """\
start: hello
nodes:
  hello:
    type: end
    text: "Hello"
"""
NEWS = """\
## en
**News**: the office opens on *Monday*.

- bring your papers
- [read more](https://example.org/news)

## ru
**Новости**: офис открывается в *понедельник*.

## be
**Навіны**: офіс адкрываецца ў *панядзелак*.
"""
TEXT = {
    "en": "News: the office opens on Monday.\n\n• bring your papers\n• read more",
    "ru": "Новости: офис открывается в понедельник.",
    "be": "Навіны: офіс адкрываецца ў панядзелак.",
}


@pytest.fixture
def vault() -> Vault:
    return support_store.vault()


@pytest.fixture
async def store(tmp_path: Path, vault: Vault) -> AsyncIterator[NewsStore]:
    async with NewsStore(tmp_path / "bots.db", vault=vault) as opened:
        yield opened


@pytest.fixture
def news_file(tmp_path: Path) -> Path:
    path = tmp_path / "news.md"
    path.write_text(NEWS, encoding="utf-8")
    return path


async def subscribe(store: NewsStore, people: list[Person], langs: list[str] | None = None) -> None:
    for index, person in enumerate(people):
        lang = langs[index % len(langs)] if langs else "en"
        key = store.vault.chat_key(BOT, person.id)
        assert await store.subscribe(BOT, key, person.id, lang, now=NOW)


def broadcast(store: NewsStore, api: BotApiStandin, path: Path, **kwargs: object) -> Broadcast:
    news = load_news(path, ["en", "ru", "be"])
    kwargs.setdefault("per_second", 1000.0)
    return Broadcast(store, BOT, news, make_bot(TOKEN, api.base_url), **kwargs)  # type: ignore[arg-type]


def received(api: BotApiStandin, people: list[Person]) -> Counter[int]:
    """How many messages each person got (only what Telegram accepted is in their chat)."""
    return Counter({p.id: len(api.messages(p)) for p in people})


# --- subscribers ---------------------------------------------------------------------------------


async def test_subscribe_unsubscribe_and_count(store: NewsStore) -> None:
    key = store.vault.chat_key(BOT, 100_000_001)
    assert await store.subscribe(BOT, key, 100_000_001, "ru", now=NOW)
    assert not await store.subscribe(BOT, key, 100_000_001, "be", now=NOW)  # again: only the language changes
    assert await store.is_subscribed(BOT, key)
    assert await store.subscriber_count(BOT) == 1
    assert await store.subscribers_by_lang(BOT) == {"be": 1}
    assert await store.subscriber_count("other") == 0
    assert await store.unsubscribe(BOT, key)
    assert not await store.unsubscribe(BOT, key)
    assert not await store.is_subscribed(BOT, key)
    assert await store.subscriber_count(BOT) == 0


async def test_the_database_holds_no_raw_chat_id(store: NewsStore, tmp_path: Path) -> None:
    chat_id = 987_654_321_012
    await store.subscribe(BOT, store.vault.chat_key(BOT, chat_id), chat_id, "en", now=NOW)
    await store.shutdown()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("bots.db*"))
    assert str(chat_id).encode() not in raw
    assert chat_id.to_bytes(8, "big") not in raw and chat_id.to_bytes(8, "little") not in raw


async def test_forget_statements_delete_every_news_row_of_the_person(
    store: NewsStore, api: BotApiStandin, news_file: Path
) -> None:
    people = [api.user(f"P{i}") for i in range(3)]
    await subscribe(store, people)
    run = broadcast(store, api, news_file)
    await store.start_broadcast(BOT, run.digest, now=NOW)
    key = store.vault.chat_key(BOT, people[0].id)
    await store._write(news_forget_statements(BOT, key), alone=True)
    assert not await store.is_subscribed(BOT, key)
    assert await store.database.fetchval("SELECT COUNT(*) FROM deliveries WHERE chat = ?", (key,)) == 0
    tally = await run.run()
    assert tally.sent == 2 and received(api, people)[people[0].id] == 0


# --- sending -------------------------------------------------------------------------------------


async def test_each_person_gets_the_news_in_their_language(store: NewsStore, api: BotApiStandin, news_file: Path) -> None:
    people = [api.user(f"P{i}") for i in range(9)]
    await subscribe(store, people, ["en", "ru", "be"])
    tally = await broadcast(store, api, news_file).run()
    assert (tally.sent, tally.blocked, tally.failed, tally.total) == (9, 0, 0, 9)
    assert tally.finished and not tally.already
    for index, person in enumerate(people):
        [message] = api.messages(person)
        assert message.text == TEXT[["en", "ru", "be"][index % 3]]
        assert {e["type"] for e in message.entities or []} >= {"bold", "italic"}
    [en] = api.messages(people[0])
    link = [e for e in en.entities or [] if e["type"] == "text_link"]
    assert link and link[0]["url"] == "https://example.org/news"


async def test_a_missing_language_gets_the_default_text(store: NewsStore, api: BotApiStandin, tmp_path: Path) -> None:
    path = tmp_path / "two.md"
    path.write_text("## ru\nПривет\n\n## en\nHello\n", encoding="utf-8")
    people = [api.user(f"P{i}") for i in range(3)]
    await subscribe(store, people, ["en", "ru", "be"])
    await broadcast(store, api, path).run()
    assert [api.messages(p)[0].text for p in people] == ["Hello", "Привет", "Hello"]


async def test_a_person_who_blocked_the_bot_is_counted_and_unsubscribed(
    store: NewsStore, api: BotApiStandin, news_file: Path
) -> None:
    people = [api.user(f"P{i}") for i in range(5)]
    await subscribe(store, people)
    api.block(people[2])
    tally = await broadcast(store, api, news_file).run()
    assert (tally.sent, tally.blocked, tally.failed) == (4, 1, 0)
    assert not await store.is_subscribed(BOT, store.vault.chat_key(BOT, people[2].id))
    assert await store.subscriber_count(BOT) == 4
    assert tally.line() == "sent 4, blocked 1, failed 0"


async def test_a_refused_message_is_counted_as_failed_and_logged_without_its_text(
    store: NewsStore, api: BotApiStandin, news_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    people = [api.user(f"P{i}") for i in range(4)]
    await subscribe(store, people)
    api.fail_next("sendMessage", chat=people[1], status=400, description="Bad Request: chat not found")
    with caplog.at_level(logging.INFO, logger="bots"):
        tally = await broadcast(store, api, news_file).run()
    assert (tally.sent, tally.blocked, tally.failed) == (3, 0, 1)
    assert "(400): Chat not found" in caplog.text
    assert "office" not in caplog.text and str(people[1].id) not in caplog.text


async def test_429s_are_waited_for_and_the_same_message_sent_again(store: NewsStore, api: BotApiStandin, news_file: Path) -> None:
    people = [api.user(f"P{i}") for i in range(6)]
    await subscribe(store, people)
    api.fail_next("sendMessage", status=429, retry_after=1, times=3)
    started = asyncio.get_running_loop().time()
    tally = await broadcast(store, api, news_file).run()
    assert tally.sent == 6 and tally.rate_limited == 3
    assert asyncio.get_running_loop().time() - started >= 1.0  # retry_after was kept
    assert set(received(api, people).values()) == {1}


async def test_keeps_to_the_pace_of_a_rate_limited_bot_api(store: NewsStore, api: BotApiStandin, news_file: Path) -> None:
    people = [api.user(f"P{i}") for i in range(75)]
    await subscribe(store, people)
    api.rate_limits(per_bot_per_second=30)
    tally = await broadcast(store, api, news_file, per_second=PER_SECOND).run()
    assert tally.sent == 75 and tally.failed == 0
    assert set(received(api, people).values()) == {1}  # any 429 was answered by sending again
    accepted = sorted(c.time for c in api.calls_to("sendMessage") if c.status == 200)
    assert 74 / (accepted[-1] - accepted[0]) <= 31.0


async def test_killed_half_way_and_restarted_sends_to_the_rest_and_nobody_twice(
    store: NewsStore, api: BotApiStandin, news_file: Path
) -> None:
    people = [api.user(f"P{i}") for i in range(60)]
    await subscribe(store, people, ["en", "ru"])
    first = asyncio.create_task(broadcast(store, api, news_file, per_second=40.0).run())
    await api.wait_until(lambda: sum(received(api, people).values()) >= 20, timeout=10)
    first.cancel()  # as abruptly as a crash: nothing is tidied up
    with pytest.raises(asyncio.CancelledError):
        await first
    # the barrier: the stopped sender's connections closed and every call it had sent answered
    await api.wait_until(lambda: api.idle, timeout=10)
    half = sum(received(api, people).values())
    assert 20 <= half < 60

    tally = await broadcast(store, api, news_file).run()
    counts = received(api, people)
    assert max(counts.values()) == 1  # nobody twice
    missing = [p for p in people if counts[p.id] == 0]
    assert len(missing) <= tally.crashed  # only a message in flight at the kill may be missing
    assert tally.sent + tally.crashed == 60 and tally.finished
    assert sum(counts.values()) >= tally.sent

    again = await broadcast(store, api, news_file).run()  # the same file once more: nothing is sent
    assert again.already and again.sent == tally.sent
    assert max(received(api, people).values()) == 1


async def test_stopped_cleanly_it_finishes_the_messages_in_flight_and_goes_on_later(
    store: NewsStore, api: BotApiStandin, news_file: Path
) -> None:
    people = [api.user(f"P{i}") for i in range(40)]
    await subscribe(store, people)
    stop = asyncio.Event()
    first = asyncio.create_task(broadcast(store, api, news_file, per_second=40.0).run(stop))
    await api.wait_until(lambda: sum(received(api, people).values()) >= 10, timeout=10)
    stop.set()
    tally = await first
    assert not tally.finished and tally.pending > 0 and tally.crashed == 0
    assert tally.sent == sum(received(api, people).values())  # nothing left in doubt
    assert "not sent yet" in tally.line()
    rest = await broadcast(store, api, news_file).run()
    assert rest.finished and (rest.sent, rest.crashed) == (40, 0)
    assert set(received(api, people).values()) == {1}


async def test_a_finished_broadcast_keeps_only_its_counts(store: NewsStore, api: BotApiStandin, news_file: Path) -> None:
    people = [api.user(f"P{i}") for i in range(4)]
    await subscribe(store, people)
    api.block(people[0])
    run = broadcast(store, api, news_file)
    await run.run()
    assert await store.database.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    assert await store.database.fetchall("SELECT total, sent, blocked, failed, crashed, owner FROM broadcasts") == [
        (4, 3, 1, 0, 0, None)
    ]


async def test_people_who_subscribe_later_wait_for_the_next_message(
    store: NewsStore, api: BotApiStandin, news_file: Path
) -> None:
    early = [api.user(f"E{i}") for i in range(30)]
    await subscribe(store, early)
    first = asyncio.create_task(broadcast(store, api, news_file, per_second=30.0).run())
    await api.wait_until(lambda: sum(received(api, early).values()) >= 5, timeout=10)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    late = [api.user("Late")]
    await subscribe(store, late)
    gone_key = await store.database.fetchval(  # not reached yet, nor in flight
        "SELECT chat FROM deliveries WHERE status = 'pending' ORDER BY chat DESC LIMIT 1"
    )
    [gone] = [p for p in early if store.vault.chat_key(BOT, p.id) == gone_key]
    await store.unsubscribe(BOT, gone_key)
    tally = await broadcast(store, api, news_file).run()
    assert tally.total == 30 and tally.finished
    assert tally.gone == 1 and tally.sent + tally.crashed == 29
    assert received(api, late)[late[0].id] == 0
    assert received(api, [gone])[gone.id] == 0
    assert max(received(api, early).values()) == 1


async def test_unsubscribed_before_their_turn_get_nothing(store: NewsStore, api: BotApiStandin, news_file: Path) -> None:
    people = [api.user(f"P{i}") for i in range(5)]
    await subscribe(store, people)
    run = broadcast(store, api, news_file)
    await store.start_broadcast(BOT, run.digest, now=NOW)
    await store.unsubscribe(BOT, store.vault.chat_key(BOT, people[3].id))
    tally = await run.run()
    assert (tally.sent, tally.gone) == (4, 1)
    assert received(api, [people[3]])[people[3].id] == 0
    assert "unsubscribed before their turn: 1" in tally.line()


async def test_a_text_telegram_refuses_stops_the_broadcast(store: NewsStore, api: BotApiStandin, news_file: Path) -> None:
    people = [api.user(f"P{i}") for i in range(5)]
    await subscribe(store, people)
    api.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities: bad tag", times=None)
    with pytest.raises(
        BroadcastError, match=r"Telegram refuses the 'en' text \(parse entities\); nothing more is sent: fix .*news\.md"
    ):
        await broadcast(store, api, news_file).run()
    assert sum(received(api, people).values()) == 0
    api.clear_faults()
    tally = await broadcast(store, api, news_file).run()  # once fixed (here: the fault gone), it goes on
    assert (tally.sent, tally.failed, tally.crashed) == (5, 0, 0)  # nobody was counted as refused or in doubt
    assert set(received(api, people).values()) == {1}


async def test_another_unfinished_broadcast_must_be_finished_or_dropped(
    store: NewsStore, api: BotApiStandin, news_file: Path, tmp_path: Path
) -> None:
    people = [api.user(f"P{i}") for i in range(3)]
    await subscribe(store, people)
    await store.start_broadcast(BOT, broadcast(store, api, news_file).digest, now=NOW)
    edited = tmp_path / "edited.md"
    edited.write_text(NEWS.replace("Monday", "Tuesday"), encoding="utf-8")
    with pytest.raises(BroadcastError, match="was not sent to everyone .0 of 3 done.*--drop-unfinished"):
        await broadcast(store, api, edited).run()
    assert api.calls_to("sendMessage") == []
    tally = await broadcast(store, api, edited, drop_unfinished=True).run()
    assert tally.sent == 3
    assert {m.text for p in people for m in api.messages(p)} == {TEXT["en"].replace("Monday", "Tuesday")}
    assert await store.unfinished_broadcasts(BOT) == []


async def test_a_broadcast_sent_by_a_live_process_is_not_sent_by_another(
    store: NewsStore, api: BotApiStandin, news_file: Path
) -> None:
    people = [api.user(f"P{i}") for i in range(20)]
    await subscribe(store, people)
    first = asyncio.create_task(broadcast(store, api, news_file, per_second=20.0).run())
    await api.wait_until(lambda: sum(received(api, people).values()) >= 2, timeout=10)
    with pytest.raises(BroadcastError, match="being sent by another process"):
        await broadcast(store, api, news_file).run()
    tally = await first
    assert tally.sent == 20 and max(received(api, people).values()) == 1


async def test_a_refused_token_is_explained_and_the_broadcast_left_for_later(
    store: NewsStore, api: BotApiStandin, news_file: Path
) -> None:
    people = [api.user(f"P{i}") for i in range(3)]
    await subscribe(store, people)
    news = load_news(news_file, ["en", "ru", "be"])
    wrong = Broadcast(store, BOT, news, make_bot("999:not-the-token", api.base_url))
    with pytest.raises(BroadcastError, match="refused the bot's token"):
        await wrong.run()
    assert api.calls_to("sendMessage") == []
    tally = await broadcast(store, api, news_file).run()  # not taken to be sent by another process
    assert tally.sent == 3 and set(received(api, people).values()) == {1}


async def test_nobody_subscribed_records_nothing(store: NewsStore, api: BotApiStandin, news_file: Path) -> None:
    with pytest.raises(BroadcastError, match="nobody has subscribed"):
        await broadcast(store, api, news_file).run()
    assert await store.unfinished_broadcasts(BOT) == []


def test_only_errors_before_the_request_left_are_retried() -> None:
    from telegram.error import NetworkError, TimedOut

    class ClientConnectorError(OSError):
        pass

    refused = NetworkError("aiohttp.ClientConnectorError")
    refused.__cause__ = ClientConnectorError()
    assert _never_sent(refused)
    assert _never_sent(TimedOut("Pool timeout: All connections are occupied. Request was *not* sent to Telegram."))
    read = TimedOut()
    read.__cause__ = asyncio.TimeoutError()
    assert not _never_sent(read)
    assert not _never_sent(NetworkError("aiohttp.ServerDisconnectedError"))


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise() -> None:
    tty = io.StringIO()
    bar = Progress(tty, tty=True)
    bar.start(10, 0)
    bar.update(5, force=True)
    bar.finish(10)
    assert "\r[" + "#" * 15 + "." * 15 + "] 5/10" in tty.getvalue()
    assert tty.getvalue().endswith("\n") and "10/10" in tty.getvalue()
    log = io.StringIO()
    lines = Progress(log, tty=False, label="demo: ")
    lines.start(10, 4)
    lines.finish(10)
    assert log.getvalue().splitlines()[0] == "demo: 4/10 done, 0.0/s"
    assert "\r" not in log.getvalue()


def test_the_tally_line() -> None:
    tally = Tally(total=10, sent=6, blocked=1, failed=1, crashed=1, unsure=1)
    assert tally.line() == ("sent 6, blocked 1, failed 1, not resent after a crash: 1, not resent after a network error: 1")


# --- the command ---------------------------------------------------------------------------------


async def run_cli(project: Path, api: BotApiStandin, *args: str) -> asyncio.subprocess.Process:
    """`bots broadcast demo ARGS`, started: read it with `ended`."""
    return await start_bots("broadcast", BOT, *args, cwd=project, env=bots_env(api))


async def test_the_command_dry_run_then_killed_and_restarted(api: BotApiStandin, tmp_path: Path, vault: Vault) -> None:
    project = write_project(tmp_path / "project", {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": MAIN})
    (project / "news.md").write_text(NEWS, encoding="utf-8")
    db = tmp_path / "bots.db"
    people = [api.user(f"P{i}") for i in range(60)]
    async with NewsStore(db, vault=vault) as store:
        await subscribe(store, people, ["en", "ru", "be", "en"])

    code, text, err = await ended(await run_cli(project, api, "news.md", "--db", str(db), "--dry-run"))
    assert code == 0, err
    assert "60 subscriber(s)" in text
    assert "--- en: 30 subscriber(s)" in text and "--- ru: 15 subscriber(s)" in text and "--- be: 15 subscriber(s)" in text
    assert "<b>News</b>: the office opens on <i>Monday</i>." in text
    assert "nothing was sent" in text
    assert api.calls_to("sendMessage") == []

    first = await run_cli(project, api, "news.md", "--db", str(db))
    await api.wait_until(lambda: sum(received(api, people).values()) >= 20, timeout=30)
    first.send_signal(signal.SIGKILL)
    await ended(first, 30)
    await api.wait_until(lambda: api.idle, timeout=10)  # what the killed process had sent is answered

    code, out, err = await ended(await run_cli(project, api, "news.md", "--db", str(db)))
    assert code == 0, err
    counts = received(api, people)
    assert max(counts.values()) == 1
    [line] = out.splitlines()
    match = re.fullmatch(r"demo: sent (\d+), blocked 0, failed 0(?:, not resent after a crash: (\d+))?", line)
    assert match, line
    sent, crashed = int(match[1]), int(match[2] or 0)
    assert sent + crashed == 60
    assert sent <= sum(counts.values()) <= sent + crashed  # a message in flight at the kill may have arrived
    assert "done," in err  # progress lines (stderr is not a terminal here)
    assert str(people[0].id) not in err

    code, out, err = await ended(await run_cli(project, api, "news.md", "--db", str(db)))
    assert code == 0 and "already sent" in out
    if crashed:
        assert f"not resent after a crash: {crashed}" in out
    code, out, err = await ended(await run_cli(project, api, "news.md", "--db", str(db), "--dry-run"))
    assert code == 0 and "this message was already sent" in out
    assert max(received(api, people).values()) == 1
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)


async def test_the_command_explains_a_bad_file_and_a_missing_key(api: BotApiStandin, tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": MAIN})
    (project / "news.md").write_text("## en\nHi\n## de\nHallo\n", encoding="utf-8")
    code, _, err = await ended(await run_cli(project, api, "news.md", "--db", str(tmp_path / "x.db"), "--dry-run"))
    assert code == 1
    assert "news.md:3: error: 'de' is not one of the bot's languages (en, ru, be)" in err
    keyless = await start_bots("broadcast", BOT, "news.md", cwd=project, env=environment(BOTS_SECRET_KEY=None))
    code, _, err = await ended(keyless)
    assert code == 2 and "BOTS_SECRET_KEY" in err and "--insecure-dev" in err


def test_the_command_without_a_database_or_a_token(
    tmp_path: Path, vault: Vault, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path / "project", {"flows/demo/bot.yaml": BOT_YAML, "flows/demo/main.yaml": MAIN})
    (root / "news.md").write_text("## en\n**Hi**\n\n## ru\nПривет\n", encoding="utf-8")
    project, diagnostics = load_project(root)
    assert not diagnostics.errors
    missing = tmp_path / "none.db"

    def run(*, dry_run_only: bool) -> int:
        return command(project, BOT, root / "news.md", vault=vault, db=missing, api_url=None, dry_run_only=dry_run_only)

    assert run(dry_run_only=True) == 0
    out, err = capsys.readouterr()
    assert f"no database at {missing}" in err and "subscribers who speak be get the 'en' text" in err
    assert (
        out
        == "\n--- en: 0 subscriber(s), 2 characters ---\n<b>Hi</b>\n\n--- ru: 0 subscriber(s), 6 characters ---\nПривет\n\n(dry run: nothing was sent)\n"
    )
    assert run(dry_run_only=False) == 1
    assert "nothing to send" in capsys.readouterr().err
    assert not missing.exists()
    missing.touch()
    monkeypatch.delenv("DEMO_TOKEN", raising=False)
    assert run(dry_run_only=False) == 2
    assert "no token: set the environment variable DEMO_TOKEN" in capsys.readouterr().err
