"""Issue 18: one bot's fault stops nothing else. Two bots in one `bots run` process against the
stand-in; the fault is the second bot's ("union"), and the first ("demo") answers throughout.
After recovery every person is answered, and nobody twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.testing.standin import BotApiStandin
from tests.support.project import BOT_YAML, write_project
from tests.support.standin import TOKEN, answered_once, greeting, standin
from tests.telegram.conftest import PROJECT

UNION_TOKEN = "654321:UNION-token-for-the-stand-in"
UNION_YAML = BOT_YAML.replace("name: Demo", "name: Union").replace("DEMO_TOKEN", "UNION_TOKEN")
SHORT = 'start: hello\nnodes:\n  hello:\n    type: end\n    text: "Hello from the union, {{ user.first_name }}."\n'
ENV = {"UNION_TOKEN": UNION_TOKEN, "BOTS_TOKEN_RECHECK_SECONDS": "0.3"}
REFUSED = "union: the token in UNION_TOKEN was refused by Telegram: set a new one from BotFather"
RESUMED = "union: Telegram accepts the token again: the bot resumes"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {**PROJECT, "flows/demo/bot.yaml": BOT_YAML, "flows/union/bot.yaml": UNION_YAML, "flows/union/main.yaml": SHORT}
    return write_project(tmp_path / "project", files)


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandin]:
    async with standin(TOKEN, UNION_TOKEN) as started:
        yield started


async def test_a_token_refused_later_stops_that_bot_alone_until_it_works_again(api: BotApiStandin, running) -> None:
    process = await running("--pace", "off", env=ENV).start()
    alice, carol, dave = api.user("Alice"), api.user("Carol"), api.user("Dave")
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"
    api.fail_next("getUpdates", status=401, times=None, bot=UNION_TOKEN)  # revoked in BotFather
    api.fail_next("getMe", status=401, times=None, bot=UNION_TOKEN)
    assert (await greeting(api, carol, bot=UNION_TOKEN)).text == "Hello from the union, Carol."  # ends the poll in hand
    await process.logged(REFUSED)
    await api.send_text(dave, "/start", bot=UNION_TOKEN)  # waits at Telegram meanwhile
    [question] = api.messages(alice, bot=TOKEN)
    await api.press(alice, question, "Red")  # the other bot goes on
    [size] = await api.wait_for_messages(alice, 1, timeout=15, bot=TOKEN)
    assert size.text == "Size for red?"
    api.clear_faults("getUpdates")
    api.clear_faults("getMe")  # a new token, say
    await process.logged(RESUMED)
    [hello] = await api.wait_for_messages(dave, 1, timeout=15, bot=UNION_TOKEN)
    assert hello.text == "Hello from the union, Dave."
    code, errors = await process.stop()
    assert code == 0, errors
    assert errors.count(REFUSED) == 1 and "Traceback" not in errors
    answered_once(api, [carol, dave], UNION_TOKEN)
    assert len(api.messages(alice, bot=TOKEN)) == 2


async def test_an_endpoint_gone_at_the_start_stops_that_bot_alone_until_it_works(api: BotApiStandin, running) -> None:
    api.fail_next("getMe", status=404, times=None, bot=UNION_TOKEN)
    process = await running("--pace", "off", env=ENV).start()
    await process.logged(REFUSED)
    alice, bob = api.user("Alice"), api.user("Bob")
    await api.send_text(bob, "/start", bot=UNION_TOKEN)
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"
    api.clear_faults("getMe")
    await process.logged(RESUMED)
    [hello] = await api.wait_for_messages(bob, 1, timeout=15, bot=UNION_TOKEN)
    assert hello.text == "Hello from the union, Bob."
    code, errors = await process.stop()
    assert code == 0, errors
    assert errors.count(REFUSED) == 1 and "Traceback" not in errors
    answered_once(api, [alice], TOKEN)
    answered_once(api, [bob], UNION_TOKEN)


async def test_bots_run_ends_non_zero_only_when_no_bot_is_left(api: BotApiStandin, running) -> None:
    api.fail_next("getMe", status=401, times=None, bot=UNION_TOKEN)
    process = await running("--pace", "off", env=ENV).start()
    await process.logged(REFUSED)
    api.fail_next("getUpdates", status=401, times=None, bot=TOKEN)
    api.fail_next("getMe", status=401, times=None, bot=TOKEN)
    await api.send_text(api.user("Alice"), "/start", bot=TOKEN)  # ends the poll in hand
    code, errors = await process.wait()
    assert code == 1, errors
    assert (
        "demo: the token in DEMO_TOKEN was refused by Telegram: set a new one from BotFather (no bot is left running)" in errors
    )


async def test_updates_the_bot_cannot_read_are_skipped_at_once(api: BotApiStandin, running) -> None:
    process = await running("--pace", "off", env=ENV).start()
    alice, bob = api.user("Alice"), api.user("Bob")
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"
    queue = api.bot(UNION_TOKEN).queue
    chat = {"id": bob.id, "type": "private", "first_name": "Bob"}
    sender = {"id": bob.id, "is_bot": False, "first_name": "Bob"}
    assert queue.push("message", {"message_id": 901, "date": 0, "chat": "not a chat", "text": "hi"}, bob.id)
    assert queue.push("message", {"message_id": 902, "date": 0, "chat": chat, "from": sender, "text": 5}, bob.id)
    assert queue.push("callback_query", {"id": "q", "from": {"id": bob.id}, "chat_instance": "c"}, bob.id)
    assert (await greeting(api, bob, bot=UNION_TOKEN)).text == "Hello from the union, Bob."  # after the three, in order
    [question] = api.messages(alice, bot=TOKEN)
    await api.press(alice, question, "Blue")
    [size] = await api.wait_for_messages(alice, 1, timeout=15, bot=TOKEN)
    assert size.text == "Size for blue?"
    code, errors = await process.stop()
    assert code == 0, errors
    assert errors.count("(message) cannot be read: skipped") == 2
    assert errors.count("(callback_query) cannot be read: skipped") == 1
    assert "attempt" not in errors and "Traceback" not in errors
    answered_once(api, [bob], UNION_TOKEN)


async def test_an_hours_429_pauses_that_bots_sending_only_and_keeps_recording(api: BotApiStandin, running, tmp_path) -> None:
    process = await running("--pace", "off", env=ENV).start()
    alice, carol, dave = api.user("Alice"), api.user("Carol"), api.user("Dave")
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"
    api.fail_next("sendMessage", status=429, retry_after=3600, bot=UNION_TOKEN)
    await api.send_text(carol, "/start", bot=UNION_TOKEN)
    await process.logged("union: Telegram asks to slow down (429)")
    assert "what people send is still recorded" in process._stderr.decode()
    await api.send_text(dave, "/start", bot=UNION_TOKEN)
    queue = api.bot(UNION_TOKEN).queue
    await api.wait_until(lambda: queue.pending_count == 0, timeout=15)  # Dave's, recorded and confirmed
    [question] = api.messages(alice, bot=TOKEN)
    await api.press(alice, question, "Red")  # the other bot is not slowed
    [size] = await api.wait_for_messages(alice, 1, timeout=15, bot=TOKEN)
    assert size.text == "Size for red?"
    assert not api.messages(carol, bot=UNION_TOKEN) and not api.messages(dave, bot=UNION_TOKEN)
    code, errors = await process.stop()  # an hour is long: the operator restarts, the journal holds
    assert code == 0, errors
    again = await running("--pace", "off", env=ENV).start()
    for who in (carol, dave):
        [hello] = await api.wait_for_messages(who, 1, timeout=15, bot=UNION_TOKEN)
        assert hello.text == f"Hello from the union, {who.first_name}."
    code, errors = await again.stop()
    assert code == 0, errors
    answered_once(api, [carol, dave], UNION_TOKEN)


async def test_a_short_429_says_when_sending_resumes(api: BotApiStandin, running) -> None:
    process = await running("--pace", "off", env=ENV).start()
    alice, carol = api.user("Alice"), api.user("Carol")
    api.fail_next("sendMessage", status=429, retry_after=2, bot=UNION_TOKEN)
    await api.send_text(carol, "/start", bot=UNION_TOKEN)
    await process.logged("union: Telegram asks to slow down (429)")
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"  # during the pause
    [hello] = await api.wait_for_messages(carol, 1, timeout=15, bot=UNION_TOKEN)
    assert hello.text == "Hello from the union, Carol."
    await process.logged("union: sending resumes after Telegram's pause (429)")
    code, errors = await process.stop()
    assert code == 0, errors
    answered_once(api, [carol], UNION_TOKEN)


async def test_a_second_poller_or_the_bot_api_away_slows_that_bot_alone(api: BotApiStandin, running) -> None:
    process = await running("--pace", "off", env=ENV).start()
    alice, carol, dave = api.user("Alice"), api.user("Carol"), api.user("Dave")
    assert (await greeting(api, alice, bot=TOKEN)).text == "Hello, Alice! Colour?"
    api.fail_next("getUpdates", status=409, times=1, bot=UNION_TOKEN)  # another process polls with the token
    api.fail_next("getUpdates", status=502, times=1, bot=UNION_TOKEN)  # then the Bot API away for a while
    assert (await greeting(api, carol, bot=UNION_TOKEN)).text == "Hello from the union, Carol."  # ends the poll in hand
    await api.send_text(dave, "/start", bot=UNION_TOKEN)
    await process.logged("union: another process polls with this token")
    [question] = api.messages(alice, bot=TOKEN)
    await api.press(alice, question, "Red")
    [size] = await api.wait_for_messages(alice, 1, timeout=15, bot=TOKEN)
    assert size.text == "Size for red?"
    [hello] = await api.wait_for_messages(dave, 1, timeout=30, bot=UNION_TOKEN)
    assert hello.text == "Hello from the union, Dave."
    code, errors = await process.stop()
    assert code == 0, errors
    assert "union: cannot reach the Bot API" in errors and "Traceback" not in errors
    answered_once(api, [carol, dave], UNION_TOKEN)


async def test_a_send_refused_for_the_token_waits_for_it_and_goes_out_once(api: BotApiStandin, running) -> None:
    process = await running("--pace", "off", env=ENV).start()
    erin = api.user("Erin")
    api.fail_next("sendMessage", status=401, times=2, bot=UNION_TOKEN)  # revoked, then working again
    assert (await greeting(api, erin, bot=UNION_TOKEN)).text == "Hello from the union, Erin."
    code, errors = await process.stop()
    assert code == 0, errors
    assert errors.count("union: the token was refused sending to") == 2
    answered_once(api, [erin], UNION_TOKEN)
