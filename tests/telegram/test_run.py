"""`bots run` end to end: python-telegram-bot over real HTTP against the stand-in."""

from __future__ import annotations

import signal
from pathlib import Path

from bots.testing.standin import BotApiStandin
from tests.support.standin import TOKEN, greeting
from tests.support.store import settled


async def test_a_conversation_on_telegram(api: BotApiStandin, running) -> None:
    bot = await running().start()
    alice = api.user("Alice", language_code="en")
    question = await greeting(api, alice)
    assert question.text == "Hello, Alice! Colour?"
    assert [label for row in question.buttons for label, _ in row] == ["Red", "Blue"]

    await api.press(alice, question, "Blue")
    [size] = await api.wait_for_messages(alice, 1, timeout=10)
    assert size.text == "Size for blue?"
    edited = api.messages(alice)[0]
    await api.wait_until(lambda: edited.text.endswith("✅ Blue"), timeout=5)  # what was chosen...
    assert not edited.buttons  # ...and the keyboard gone

    await api.send_text(alice, "7")
    messages = await api.wait_for_messages(alice, 5, timeout=10)
    assert messages[0].text == "Here is the guide."
    assert messages[1].to_api().get("document") is not None
    assert len(messages[2].text) <= 4096 and messages[2].text.startswith("Paragraph of words.")
    assert messages[3].text.startswith("Another paragraph.")
    assert messages[4].text == "Saved 7 blue."
    code, errors = await bot.stop()
    assert code == 0, errors


async def test_back_language_and_typing_where_buttons_are_expected(api: BotApiStandin, running) -> None:
    await running().start()
    olga = api.user("Olga", language_code="ru-RU")
    question = await greeting(api, olga)
    await api.send_text(olga, "green")
    hint, again = await api.wait_for_messages(olga, 2, timeout=10)
    assert hint.text == "Please choose one of the buttons."
    assert again.text == question.text and again.buttons == question.buttons
    await api.press(olga, again, "Red")
    [size] = await api.wait_for_messages(olga, 1, timeout=10)
    await api.send_text(olga, "/back")
    [back] = await api.wait_for_messages(olga, 1, timeout=10)
    assert back.text == "Hello, Olga! Colour?"
    await api.send_text(olga, "/language")
    [menu] = await api.wait_for_messages(olga, 1, timeout=10)
    assert [label for row in menu.buttons for label, _ in row] == ["English", "Русский"]
    await api.press(olga, menu, "English")
    done, current = await api.wait_for_messages(olga, 2, timeout=10)
    assert current.text == "Hello, Olga! Colour?"


async def test_expired_and_forged_buttons_change_nothing(api: BotApiStandin, running) -> None:
    await running().start()
    bob = api.user("Bob")
    question = await greeting(api, bob)
    old_blue = question.buttons[1][0][1]
    await api.press(bob, question, "Red")
    [size] = await api.wait_for_messages(bob, 1, timeout=10)
    await api.press(bob, question, data=old_blue)  # the old keyboard, replayed
    expired, current = await api.wait_for_messages(bob, 2, timeout=10)
    assert expired.text == "This menu has expired. Here is where we are now:"
    assert current.text == "Size for red?"
    await api.press(bob, question, data="99999:o0")  # forged
    expired, current = await api.wait_for_messages(bob, 2, timeout=10)
    assert expired.text.startswith("This menu has expired") and current.text == "Size for red?"
    await api.send_text(bob, "3")
    messages = await api.wait_for_messages(bob, 5, timeout=10)
    assert messages[-1].text == "Saved 3 red."  # the forged press did not change the answer


async def test_429_waits_and_the_reply_still_arrives(api: BotApiStandin, running) -> None:
    await running().start()
    carol = api.user("Carol")
    api.fail_next("sendMessage", chat=carol, status=429, retry_after=1)
    question = await greeting(api, carol)
    assert question.text == "Hello, Carol! Colour?"
    failed = [c for c in api.calls_to("sendMessage") if c.status == 429]
    assert len(failed) == 1


async def test_403_marks_the_chat_and_drops_what_was_queued(api: BotApiStandin, running) -> None:
    await running().start()
    dave = api.user("Dave")
    question = await greeting(api, dave)
    api.block(dave, notify=False)
    await api.press(dave, question, "Red")
    await api.wait_until(
        lambda: any(c.status == 403 for c in api.calls_to("editMessageText") + api.calls_to("sendMessage")), timeout=10
    )
    sends_before = len(api.calls_to("sendMessage"))
    # the barrier: Dave unblocks the bot and starts again; a chat's calls go out in order, so
    # anything of before still queued or retried would be sent before this answer
    api.unblock(dave)
    again = await greeting(api, dave)
    assert again.text == "Hello, Dave! Colour?"
    assert [c.params["text"] for c in api.calls_to("sendMessage")[sends_before:]] == [again.text]  # never retried


async def test_documents_are_uploaded_once_then_reused(api: BotApiStandin, running) -> None:
    await running().start()
    received = []
    for name in ("Erin", "Frank"):
        person = api.user(name)
        question = await greeting(api, person)
        await api.press(person, question, "Red")
        await api.wait_for_messages(person, 1, timeout=10)
        await api.send_text(person, "1")
        messages = await api.wait_for_messages(person, 5, timeout=10)
        received.append(messages[1].to_api()["document"])
    documents = api.calls_to("sendDocument")
    assert len(documents) == 2
    first, second = (params for _, params in documents)
    uploaded_id = received[0]["file_id"]
    assert first["document"] != uploaded_id  # the first time, the file itself went up
    assert second["document"] == uploaded_id  # then only Telegram's file_id
    assert received[1]["file_id"] == uploaded_id


async def test_commands_are_registered_in_every_language(api: BotApiStandin, running) -> None:
    bot = await running().start()
    await api.wait_until(lambda: api.commands(language_code="ru"), timeout=15)
    names = [c["command"] for c in api.commands(language_code="ru")]
    assert names == ["start", "back", "help", "language", "subscribe", "unsubscribe", "forget", "x"]
    assert [c["command"] for c in api.commands(language_code="en")] == names
    code, _ = await bot.stop(signal.SIGINT)
    assert code == 0


async def test_a_400_is_logged_without_the_text_and_the_person_gets_an_apology(api: BotApiStandin, running) -> None:
    bot = await running().start()
    gina = api.user("Gina")
    api.fail_next("sendMessage", chat=gina, status=400, description="Bad Request: can't parse entities: Hello, Gina! Colour?")
    apology = await greeting(api, gina)
    assert "Sorry, something went wrong" in apology.text
    code, errors = await bot.stop()
    assert "400" in errors
    assert "Gina" not in errors and "Colour" not in errors


async def test_startup_errors_are_one_line_naming_the_bot_and_the_variable(api: BotApiStandin, running) -> None:
    missing = await running(env={"DEMO_TOKEN": ""}).start()
    code, errors = await missing.wait()
    assert code == 2
    assert errors.strip() == "bots: demo: no token: set the environment variable DEMO_TOKEN"

    wrong = await running(env={"DEMO_TOKEN": "999:not-a-token-the-server-knows"}).start()
    code, errors = await wrong.wait()
    assert code == 1
    assert errors.strip() == "bots: demo: the token in DEMO_TOKEN was refused by Telegram: set a new one from BotFather"

    unreachable = await running(env={"TELEGRAM_API_URL": "http://127.0.0.1:9/bot"}).start()
    code, errors = await unreachable.wait(timeout=60)
    assert code == 1
    assert len(errors.strip().splitlines()) == 1
    assert errors.startswith("bots: demo: cannot reach the Bot API at http://127.0.0.1:9/bot")


async def test_webhook_mode_checks_the_secret_and_serves_the_conversation(api: BotApiStandin, running) -> None:
    import socket

    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    bot = await running("--webhook", url, "--listen", "127.0.0.1", "--port", str(port), "--max-connections", "10").start()
    await api.wait_until(lambda: api.webhook_info().get("url"), timeout=15)
    assert api.webhook_info()["url"] == f"{url}/demo"
    assert api.webhook_info()["max_connections"] == 10
    hana = api.user("Hana")
    question = await greeting(api, hana)
    assert question.text == "Hello, Hana! Colour?"
    update = {
        "update_id": 999999,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "/start"},
    }
    async with aiohttp.ClientSession() as session:
        for secret in ("", "wrong-secret"):
            async with session.post(f"{url}/demo", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as response:
                assert response.status == 403
        # what a reverse proxy forwards: Telegram's request with its secret header, plus its own headers
        secret = api.bot().queue.webhook.secret_token
        proxied = {"X-Telegram-Bot-Api-Secret-Token": secret, "X-Forwarded-For": "149.154.167.220", "X-Forwarded-Proto": "https"}
        kim = api.user("Kim")
        start = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": kim.id, "type": "private", "first_name": "Kim"},
            "from": {"id": kim.id, "is_bot": False, "first_name": "Kim"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        }
        for update_id in (777001, 777001, 777002):  # Telegram redelivers when an answer is slow: once is enough
            async with session.post(f"{url}/demo", json={"update_id": update_id, "message": start}, headers=proxied) as response:
                assert response.status == 200
        async with session.post(f"{url}/demo", data=b"not json", headers=proxied) as response:
            assert response.status == 400
        async with session.post(f"{url}/other", json=update, headers=proxied) as response:
            assert response.status == 403  # a bot this process does not run
    greetings = await api.wait_for_messages(kim, 2, timeout=15)  # 777002's greeting arrives after 777001's
    assert [m.text for m in greetings] == ["Hello, Kim! Colour?"] * 2
    assert len(api.messages(kim)) == 2  # the redelivered 777001 was not answered again
    code, errors = await bot.stop()
    assert code == 0, errors


async def test_network_errors_are_retried_with_back_off(api: BotApiStandin, running) -> None:
    await running().start()
    ivan = api.user("Ivan")
    api.fail_next("sendMessage", chat=ivan, status=502, description="Bad Gateway", times=2)
    question = await greeting(api, ivan)
    assert question.text == "Hello, Ivan! Colour?"
    assert [c.status for c in api.calls_to("sendMessage")][:3] == [502, 502, 200]


async def test_debug_logs_hold_no_text_no_name_no_id_no_token(api: BotApiStandin, running) -> None:
    process = running()
    process.global_args = ("-vv",)
    bot = await process.start()
    jana = api.user("Jana", username="jana_secret_handle")
    question = await greeting(api, jana)
    await api.press(jana, question, "Blue")
    await api.wait_for_messages(jana, 1, timeout=10)
    api.fail_next("sendMessage", chat=jana, status=400, description="Bad Request: can't parse entities in 4242")
    await api.send_text(jana, "4242")
    await api.wait_for_messages(jana, 1, timeout=10)
    code, logs = await bot.stop()
    assert code == 0
    assert "DEBUG" in logs or "INFO" in logs  # the log was on, at debug level
    for secret in ("Jana", "jana_secret_handle", str(jana.id), "4242", "Size for", TOKEN, TOKEN.split(":")[1]):
        assert secret not in logs, secret


async def test_groups_are_ignored_and_left_except_the_moderators_group(api: BotApiStandin, running, tmp_path: Path) -> None:
    strangers = api.supergroup("Strangers")
    moderators = api.supergroup("Moderators")
    await running(env={"DEMO_MODERATORS": str(moderators.id)}).start()
    bot = api.bot()
    for group in (strangers, moderators):
        me = bot.account.to_api()
        bot.queue.push(
            "my_chat_member",
            {
                "chat": group.chat_api(),
                "from": {"id": 1, "is_bot": False, "first_name": "Admin"},
                "date": 0,
                "old_chat_member": {"status": "left", "user": me},
                "new_chat_member": {"status": "member", "user": me},
            },
            group.id,
        )
    await api.wait_until(lambda: api.calls_to("leaveChat"), timeout=15)
    kim = api.user("Kim")
    await api.send_text(kim, "/start", chat=strangers)  # a message in a group: no answer
    await greeting(api, kim)  # the private chat is served, after the group message
    # the barrier: every update confirmed to Telegram, processed, and every call it made sent
    await api.wait_until(lambda: api.bot().queue.pending_count == 0 and settled(tmp_path / "bots.db"), timeout=15)
    assert [params["chat_id"] for _, params in api.calls_to("leaveChat")] == [strangers.id]
    assert all(params.get("chat_id") == kim.id for _, params in api.calls_to("sendMessage"))
