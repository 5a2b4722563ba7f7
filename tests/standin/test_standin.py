"""End-to-end tests of the Bot API stand-in, driven by real python-telegram-bot over loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)

from bots.testing.standin import BotApiStandin
from bots.testing.standin.formatting import parse_html, parse_markdown, parse_markdown_v2, utf16_len

from .conftest import OTHER_TOKEN, TOKEN

KB = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Find support", callback_data="support"), InlineKeyboardButton("Site", url="https://example.org")]]
)


async def raw(
    api: BotApiStandin, method: str, *, token: str = TOKEN, http: str = "POST", **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """One raw HTTP call to the stand-in (status, JSON body)."""
    async with aiohttp.ClientSession() as session:
        async with session.request(http, f"{api.base_url}{token}/{method}", **kwargs) as resp:
            return resp.status, await resp.json()


async def test_get_me(api: BotApiStandin, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (111, True, "standin_111_bot")
    assert me.can_join_groups is True
    assert [c.method for c in api.calls_to("getMe")] == ["getMe", "getMe"]  # initialize() + ours


async def test_send_with_keyboard_edit_and_delete(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice", language_code="ru")
    sent = await bot.send_message(alice.id, "<b>Hello</b> there", parse_mode="HTML", reply_markup=KB)
    assert sent.text == "Hello there" and sent.chat.id == alice.id and sent.from_user.id == 111
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 5)]
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "support"
    [seen] = await api.wait_for_messages(alice, count=1, timeout=2)
    assert seen.message_id == sent.message_id and seen.text == "Hello there"
    assert seen.buttons == [[("Find support", "support"), ("Site", None)]]

    edited = await bot.edit_message_text("Bye", chat_id=alice.id, message_id=sent.message_id, reply_markup=KB)
    assert edited.text == "Bye" and edited.edit_date is not None
    assert seen.text == "Bye" and seen.buttons[0][0] == ("Find support", "support")
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Bye", chat_id=alice.id, message_id=sent.message_id, reply_markup=KB)
    await bot.edit_message_text("Bye!", chat_id=alice.id, message_id=sent.message_id)
    assert seen.buttons == []  # an edit without reply_markup drops the keyboard, as on Telegram
    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=KB)
    assert seen.buttons[0][0][1] == "support"

    assert await bot.delete_message(alice.id, sent.message_id) is True
    assert seen.deleted and api.messages(alice)[0].deleted
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("again", chat_id=alice.id, message_id=sent.message_id)


async def test_get_updates_offset_and_long_poll(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice", username="alice", language_code="ru")
    await api.send_text(alice, "/start")
    await api.send_text(alice, "hello")
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first] == ["/start", "hello"]
    msg = first[0].message
    assert msg.entities[0].type == "bot_command" and msg.from_user.language_code == "ru"
    assert msg.chat.type == "private" and msg.chat.id == alice.id
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first]  # not confirmed yet
    rest = await bot.get_updates(offset=first[0].update_id + 1)
    assert [u.message.text for u in rest] == ["hello"]
    assert await bot.get_updates(offset=first[1].update_id + 1, timeout=0) == ()
    assert api.bot().queue.pending_count == 0  # confirmed updates are dropped

    for i in range(3):
        await api.send_text(alice, f"m{i}")
    assert [u.message.text for u in await bot.get_updates(limit=2)] == ["m0", "m1"]
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["m2"]

    loop = asyncio.get_running_loop()
    last = (await bot.get_updates())[-1].update_id
    poll = asyncio.create_task(bot.get_updates(offset=last + 1, timeout=10))
    await api.wait_until(lambda: api.bot().queue.polling, timeout=5)  # the request waits at the stand-in
    assert not poll.done()
    started = loop.time()
    await api.send_text(alice, "wake up")
    woke = await asyncio.wait_for(poll, 3)
    assert loop.time() - started < 1.0
    assert [u.message.text for u in woke] == ["wake up"]

    await bot.get_updates(offset=woke[-1].update_id + 1, allowed_updates=["callback_query"])
    await api.send_text(alice, "filtered out")
    assert await bot.get_updates() == ()
    await bot.get_updates(allowed_updates=[])  # back to the default set
    await api.send_text(alice, "seen again")
    assert [u.message.text for u in await bot.get_updates()] == ["seen again"]


async def test_press_arrives_as_callback_query(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice")
    sent = await bot.send_message(alice.id, "Choose", reply_markup=KB)
    [shown] = await api.wait_for_messages(alice)
    qid = await api.press(alice, shown, "Find support")
    [update] = await bot.get_updates(timeout=2)
    query = update.callback_query
    assert (query.id, query.data, query.from_user.id) == (qid, "support", alice.id)
    assert query.message.message_id == sent.message_id and query.message.text == "Choose"
    assert await query.answer(text="Opening support") is True
    assert (await api.wait_for_answer(qid, timeout=2))["text"] == "Opening support"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(qid)
    with pytest.raises(LookupError):
        await api.press(alice, shown, "No such button")


async def test_bad_requests(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    assert len((await bot.send_message(alice.id, "x" * 4096)).text) == 4096
    assert len((await bot.send_message(alice.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")).text) == 4096
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(alice.id, "hi", reply_markup=too_long)
    empty = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="")]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(alice.id, "hi", reply_markup=empty)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(alice.id, "")
    with pytest.raises(BadRequest, match='(?i)can\'t find end tag corresponding to start tag "b"'):
        await bot.send_message(alice.id, "<b>bold", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)character '.' is reserved"):
        await bot.send_message(alice.id, "Hello.", parse_mode="MarkdownV2")
    status, body = await raw(api, "sendMessage", json={"text": "no chat"})
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"})
    assert len(api.messages(alice)) == 2  # only the two valid sends exist


async def test_unknown_method_bad_token_and_raw_protocol(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice")
    assert await raw(api, "fooBar") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    assert await raw(api, "getMe", token="999:nope") == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with pytest.raises(InvalidToken):
        async with Bot("999:nope", base_url=api.base_url):
            pass
    status, body = await raw(api, "GETME", http="GET")
    assert status == 200 and body["result"]["id"] == 111
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    _, as_json = await raw(api, "sendMessage", json={"chat_id": alice.id, "text": "j", "reply_markup": markup})
    _, as_form = await raw(
        api,
        "sendmessage",
        data={
            "chat_id": str(alice.id),
            "text": "f",
            "reply_markup": '{"inline_keyboard":[[{"text":"B","callback_data":"b"}]]}',
            "disable_notification": "true",
        },
    )
    _, as_query = await raw(api, "sendMessage", http="GET", params={"chat_id": alice.id, "text": "q"})
    assert [m.text for m in api.messages(alice)] == ["j", "f", "q"]
    assert [m.buttons for m in api.messages(alice)][:2] == [[[("A", "a")]], [[("B", "b")]]]
    assert as_json["ok"] and as_form["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "B"
    assert await raw(api, "setChatTitle", json={"chat_id": alice.id, "title": "t"}) == (200, {"ok": True, "result": True})
    status, body = await raw(api, "setChatTitle", json={"chat_id": alice.id})
    assert (status, body["description"]) == (400, "Bad Request: title is empty")
    status, body = await raw(api, "getStarTransactions", json={})
    assert (status, body["description"]) == (400, "Bad Request: method not supported by the stand-in")
    async with aiohttp.ClientSession() as session, session.get(f"{api.url}/nowhere") as resp:
        assert resp.status == 404 and (await resp.json())["description"] == "Not Found"


async def test_injected_faults_blocking_and_rate_limits(api: BotApiStandin, bot: Bot) -> None:
    alice, bob = api.user("Alice"), api.user("Bob")
    api.fail_next("sendMessage", chat=alice, status=429, retry_after=3)
    await bot.send_message(bob.id, "bob is unaffected")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(alice.id, "hi")
    assert info.value.retry_after == dtm.timedelta(seconds=3)
    assert (await bot.send_message(alice.id, "hi")).text == "hi"  # times=1: the next one passes
    assert [c.status for c in api.calls_to("sendMessage")] == [200, 429, 200]

    api.block(alice)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "are you there?")
    [update] = await bot.get_updates()
    assert update.my_chat_member.new_chat_member.status == "kicked"
    await api.send_text(alice, "/start")  # writing to the bot again unblocks it
    assert (await bot.send_message(alice.id, "welcome back")).text == "welcome back"

    api.fail_next("getChat", status=403, description="bot was kicked from the supergroup chat")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.get_chat(alice.id)

    api.rate_limits(per_chat_per_second=1)
    await bot.send_message(bob.id, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(bob.id, "two")
    api.rate_limits()
    await bot.send_message(bob.id, "two")

    sent = await bot.send_message(bob.id, "old")
    api.advance_time(49 * 3600)
    with pytest.raises(BadRequest, match="(?i)message can't be deleted"):
        await bot.delete_message(bob.id, sent.message_id)


async def test_document_upload_file_id_reuse_and_download(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice")
    doc = await bot.send_document(
        alice.id, document=b"hello file", filename="notes.txt", caption="<i>notes</i>", parse_mode="HTML"
    )
    assert (doc.document.file_name, doc.document.file_size, doc.caption) == ("notes.txt", 10, "notes")
    again = await bot.send_document(alice.id, document=doc.document.file_id)
    assert again.document.file_unique_id == doc.document.file_unique_id
    assert again.message_id == doc.message_id + 1
    file = await bot.get_file(doc.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"hello file"
    photo = await bot.send_photo(alice.id, photo=b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9")
    assert photo.photo[-1].file_id != doc.document.file_id
    with pytest.raises(BadRequest, match="(?i)can't use file of type photo as document"):
        await bot.send_document(alice.id, document=photo.photo[-1].file_id)
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(alice.id, document="BQACunknown")
    upload = api.calls_to("sendDocument")[0].params["document"]
    assert upload == {"upload": "notes.txt", "size": 10}  # the call log keeps no file bytes

    sent_in = await api.send_document(alice, b"user file", file_name="cv.pdf", mime_type="application/pdf")
    [update] = await bot.get_updates()
    assert update.message.document.file_name == "cv.pdf" and update.message.message_id == sent_in.message_id
    got = await (await bot.get_file(update.message.document.file_id)).download_as_bytearray()
    assert bytes(got) == b"user file"


async def test_forum_topics(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice")
    group = api.supergroup("Mods", forum=True, members=[alice])
    topic = await bot.create_forum_topic(group.id, "Case 1")
    thread = topic.message_thread_id
    assert topic.name == "Case 1" and api.topic(group, "Case 1").thread_id == thread
    sent = await bot.send_message(group.id, "in topic", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message and sent.chat.is_forum
    await api.send_text(alice, "reply in topic", chat=group, topic=thread)
    [update] = await bot.get_updates()
    assert update.message.message_thread_id == thread and update.message.chat.id == group.id

    assert await bot.edit_forum_topic(group.id, thread, name="Case 1 (done)")
    assert api.topics(group)[0].name == "Case 1 (done)"
    assert await bot.close_forum_topic(group.id, thread) and api.topics(group)[0].closed
    assert await bot.reopen_forum_topic(group.id, thread)
    assert await bot.delete_forum_topic(group.id, thread)
    assert api.topics(group) == [] and all(m.deleted for m in api.messages(group))
    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_message(group.id, "ghost", message_thread_id=thread)
    plain = api.supergroup("Plain")
    with pytest.raises(BadRequest, match="(?i)the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "nope")
    assert await bot.leave_chat(plain.id)
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(plain.id, "hello?")


async def test_commands_per_scope_and_language(api: BotApiStandin, bot: Bot) -> None:
    alice, boris, dora = (
        api.user("Alice", language_code="en"),
        api.user("Boris", language_code="ru"),
        api.user("Dora", language_code="de"),
    )
    assert await bot.set_my_commands([BotCommand("start", "Start")])
    assert await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
    assert await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeChat(alice.id))
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert await bot.get_my_commands(language_code="de") == ()
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(alice.id))] == ["help"]
    assert [c["command"] for c in api.visible_commands(alice)] == ["help"]
    assert [c["description"] for c in api.visible_commands(boris)] == ["Начать"]
    assert [c["description"] for c in api.visible_commands(dora)] == ["Start"]
    assert await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])


async def test_webhook_delivery_with_secret_and_retry(api: BotApiStandin, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    failures = [500]  # the first delivery attempt fails, so the stand-in must retry

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        if failures:
            return web.Response(status=failures.pop())
        if received[-1][1]["message"]["text"] == "two":  # answer with a method, as Telegram allows
            return web.json_response({"method": "sendMessage", "chat_id": alice.id, "text": "via reply"})
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    alice = api.user("Alice")
    try:
        await api.send_text(alice, "queued before")
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret", drop_pending_updates=True)
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await api.send_text(alice, "one")
        await api.send_text(alice, "two")
        await api.wait_until(lambda: len(received) >= 3 and api.webhook_info()["pending_update_count"] == 0, 5)
        assert {secret for secret, _ in received} == {"s3cret"}
        assert [body["message"]["text"] for _, body in received] == ["one", "one", "two"]  # retried, in order
        await api.wait_until(lambda: [m.text for m in api.messages(alice)] == ["via reply"], 5)
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0 and "500" in info.last_error_message
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()


async def test_copy_and_forward(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice")
    group = api.supergroup("Mods")
    incoming = await api.send_text(alice, "please help")
    forwarded = await bot.forward_message(group.id, alice.id, incoming.message_id)
    assert forwarded.text == "please help" and forwarded.forward_origin.sender_user.id == alice.id
    copied = await bot.copy_message(alice.id, group.id, forwarded.message_id)
    assert api.messages(alice)[-1].message_id == copied.message_id
    assert api.messages(alice)[-1].text == "please help"
    with pytest.raises(BadRequest, match="(?i)message to copy not found"):
        await bot.copy_message(alice.id, group.id, 9999)


async def test_http_control_api(api: BotApiStandin, bot: Bot) -> None:
    async with aiohttp.ClientSession(base_url=api.url) as http:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with http.post(path, json=body) as resp:
                assert resp.status == 200
                return await resp.json()

        user = (await post("/_standin/users", {"first_name": "Remote", "language_code": "uk"}))["user"]
        await post("/_standin/send_text", {"user": user["id"], "text": "/start"})
        await post("/_standin/send_texts", {"items": [{"user": user["id"], "text": f"n{i}"} for i in range(3)]})
        updates = await bot.get_updates()
        assert [u.message.text for u in updates] == ["/start", "n0", "n1", "n2"]
        sent = await bot.send_message(user["id"], "pick", reply_markup=KB)
        async with http.get("/_standin/messages", params={"chat": user["id"], "wait": "2"}) as resp:
            [view] = (await resp.json())["messages"]
        assert view["text"] == "pick" and view["buttons"][0][0]["callback_data"] == "support"
        qid = (await post("/_standin/press", {"user": user["id"], "message_id": sent.message_id, "label": "Find support"}))[
            "callback_query_id"
        ]
        [update] = await bot.get_updates(offset=updates[-1].update_id + 1)
        assert update.callback_query.id == qid
        await post("/_standin/faults", {"method": "sendMessage", "status": 429, "retry_after": 7})
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(user["id"], "x")
        assert info.value.retry_after == dtm.timedelta(seconds=7)
        async with http.get("/_standin/stats") as resp:
            stats = await resp.json()
        assert stats["calls"] >= 5 and stats["bots"]["111"]["created"] == 5


def test_parsers_follow_tdlib() -> None:
    assert parse_html("a &lt;b&gt; <i>c</i> &amp; &#128512;") == (
        "a <b> c & \U0001f600",
        [{"type": "italic", "offset": 6, "length": 1}],
    )
    text, ents = parse_html('<a href="https://x.org">x</a><pre><code class="language-py">p</code></pre>')
    assert (
        text == "xp"
        and ents[0]["url"] == "https://x.org"
        and ents[-1] == {"type": "pre", "offset": 1, "length": 1, "language": "py"}
    )
    for bad, reason in [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
    ]:
        with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
            parse_html(bad)
    assert utf16_len("a\U0001f600") == 3


def test_markdown_modes_read_text_without_markup() -> None:
    """Of MarkdownV2 and Markdown the stand-in reads escapes and plain text as tdlib does, and
    refuses markup with a reason of its own (the project sends HTML)."""
    assert parse_markdown_v2("5\\.00 \\(net\\) \\\\ \\* ü 1 \\> 0") == ("5.00 (net) \\ * ü 1 > 0", [])
    for reserved in ("Hello.", "a-b", "x = 1", "{}", "a | b", "(x", "1 > 0"):
        with pytest.raises(ValueError, match=r"is reserved and must be escaped with the preceding '\\'"):
            parse_markdown_v2(reserved)
    for markup, offset in (
        ("Hi *b*", 3),
        ("_i_", 0),
        ("[l](https://x.org)", 0),
        ("ü ||s||", 3),
        ("a\n> quote", 2),
        ("![e](tg://emoji?id=1)", 0),
    ):
        with pytest.raises(ValueError, match=rf"the Bot API stand-in reads no MarkdownV2 markup \('.' at byte offset {offset}\)"):
            parse_markdown_v2(markup)
    assert parse_markdown("5. \\_a\\_ \\*b\\* (c) - d!") == ("5. _a_ *b* (c) - d!", [])
    with pytest.raises(ValueError, match=r"reads no Markdown markup \('`' at byte offset 2\)"):
        parse_markdown("a `code`")


async def test_idle_and_polling_are_barriers_for_tests(api: BotApiStandin) -> None:
    """`idle`: no connection open and no call being answered; `queue.polling`: a getUpdates waits."""
    alice = api.user("Alice")
    assert api.idle
    api.delay("sendMessage", 0.2)  # answered late: the call is in progress meanwhile
    async with Bot(TOKEN, base_url=api.base_url) as ptb:
        sending = asyncio.create_task(ptb.send_message(alice.id, "slow"))
        await api.wait_until(lambda: api.handling == 1, timeout=5)
        assert not api.idle
        await sending
        assert api.handling == 0 and not api.idle  # the bot's connection stays open
        poll = asyncio.create_task(ptb.get_updates(timeout=10))
        await api.wait_until(lambda: api.bot().queue.polling, timeout=5)
        assert not poll.done()
        await api.send_text(alice, "hi")
        [update] = await asyncio.wait_for(poll, 5)
        assert update.message.text == "hi" and not api.bot().queue.polling
    await api.wait_until(lambda: api.idle, timeout=5)  # the bot closed its connections
    assert [m.text for m in api.messages(alice)] == ["slow"]


async def test_markdown_modes_over_http(api: BotApiStandin, bot: Bot) -> None:
    alice = api.user("Alice")
    sent = await bot.send_message(alice.id, "Saved\\. Bye\\!", parse_mode="MarkdownV2")
    assert sent.text == "Saved. Bye!" and not sent.entities
    with pytest.raises(BadRequest, match="(?i)can't parse entities: the bot api stand-in reads no markdownv2 markup"):
        await bot.send_message(alice.id, "*bold*", parse_mode="MarkdownV2")
    assert [m.text for m in api.messages(alice)] == ["Saved. Bye!"]


async def test_ptb_application_polling_end_to_end(api: BotApiStandin) -> None:
    from telegram import Update
    from telegram.ext import (
        Application,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_chat.send_action("typing")
        await update.message.reply_text(f"Hi {update.effective_user.first_name}", reply_markup=KB)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("ok")
        await update.callback_query.edit_message_text(f"You chose {update.callback_query.data}")

    app = Application.builder().token(TOKEN).base_url(api.base_url).base_file_url(api.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    alice = api.user("Alice")
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await api.send_text(alice, "/start")
            [greeting] = await api.wait_for_messages(alice, timeout=5)
            assert greeting.text == "Hi Alice" and api.chat_actions(alice) == ["typing"]
            qid = await api.press(alice, greeting, "Find support")
            assert (await api.wait_for_answer(qid, timeout=5))["text"] == "ok"
            await api.wait_until(lambda: greeting.text == "You chose support", 5)
            assert greeting.edit_date is not None and greeting.buttons == []
        finally:
            await app.updater.stop()
            await app.stop()


async def test_people_actions_and_two_bots_in_a_group() -> None:
    async with BotApiStandin(tokens=[TOKEN, OTHER_TOKEN]) as api:
        async with Bot(TOKEN, base_url=api.base_url) as one, Bot(OTHER_TOKEN, base_url=api.base_url) as two:
            alice = api.user("Alice", username="alice_w")
            group = api.supergroup("Both bots", members=[alice])
            said = await api.send_text(alice, "hello both /help@standin_111_bot", chat=group)
            [u1], [u2] = await one.get_updates(), await two.get_updates()
            assert u1.message.message_id == u2.message.message_id == said.message_id
            assert u1.message.entities[0].type == "bot_command" and u1.message.entities[0].offset == 11
            await api.edit_text(said, "hello both, edited")
            [e1] = await one.get_updates(offset=u1.update_id + 1)
            assert e1.edited_message.text == "hello both, edited" and e1.edited_message.edit_date is not None
            await api.send_photo(alice, caption="look", bot=OTHER_TOKEN)
            await api.send_sticker(alice, bot=OTHER_TOKEN)
            ups = await two.get_updates(offset=u2.update_id + 1)
            assert ups[-2].message.photo[-1].width > 0 and ups[-2].message.caption == "look"
            assert ups[-1].message.sticker.emoji == "\U0001f44d"
            assert await one.get_updates(offset=e1.update_id + 1) == ()  # private chats are per bot
            chat = await one.get_chat(alice.id)
            assert (chat.type, chat.username) == ("private", "alice_w")
            assert (await one.get_chat(group.id)).title == "Both bots"
            member = await two.get_chat_member(group.id, 222)
            assert member.status == "administrator" and member.can_manage_topics
            await one.send_message(group.id, "from one")
            await two.send_message(group.id, "from two")
            assert [m.text for m in api.messages(group)] == ["from one", "from two"]
            assert [m.text for m in api.messages(group, bot=OTHER_TOKEN)] == ["from two"]


async def test_standalone_module() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.testing.standin",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--user",
        "Zed",
        cwd=Path(__file__).resolve().parents[2],
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        lines: dict[str, list[str]] = {}
        while "base_url" not in lines:
            words = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().split()  # type: ignore[union-attr]
            assert words, "the stand-in exited early"
            lines[words[0]] = words[1:]
        base_url = lines["base_url"][0]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        async with Bot(TOKEN, base_url=base_url) as bot:
            assert (await bot.get_me()).id == 111
            sent = await bot.send_message(int(lines["user"][0]), "hi")
            assert sent.chat.first_name == "Zed"
        async with aiohttp.ClientSession() as http:
            control = base_url.removesuffix("/bot")
            async with http.get(f"{control}/_standin/messages", params={"chat": lines["user"][0]}) as resp:
                assert [m["text"] for m in (await resp.json())["messages"]] == ["hi"]
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
