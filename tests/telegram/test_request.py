"""AiohttpRequest end to end: a real PTB ``Bot`` over HTTP against the Bot API stand-in."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bots.telegram.request import AiohttpRequest
from bots.testing.standin import BotApiStandin, Person
from tests.support.net import free_port

TOKEN = "111:AAA-request-test"


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandin]:
    async with BotApiStandin(tokens=[TOKEN]) as standin:
        yield standin


@pytest.fixture
def alice(api: BotApiStandin) -> Person:
    return api.user("Alice")


def make_bot(api: BotApiStandin, request: AiohttpRequest | HTTPXRequest | None = None) -> Bot:
    return Bot(
        TOKEN,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
        request=request or AiohttpRequest(),
        get_updates_request=AiohttpRequest(2),
    )


@pytest.fixture
async def bot(api: BotApiStandin) -> AsyncIterator[Bot]:
    async with make_bot(api) as ptb:
        yield ptb


async def test_get_me(api: BotApiStandin, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == 111
    assert [c.method for c in api.calls] == ["getMe", "getMe"]  # initialize() + ours


async def test_send_message_with_inline_keyboard(api: BotApiStandin, bot: Bot, alice: Person) -> None:
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Yes", callback_data="y"), InlineKeyboardButton("No ✗", callback_data="n")]]
    )
    sent = await bot.send_message(alice.id, "Привет, <b>Alice</b> & co?", parse_mode="HTML", reply_markup=markup)
    [msg] = await api.wait_for_messages(alice)
    assert msg.message_id == sent.message_id
    assert msg.text == sent.text == "Привет, Alice & co?"
    assert msg.buttons == [[("Yes", "y"), ("No ✗", "n")]]


async def test_parameters_reach_the_server_as_httpx_sends_them(api: BotApiStandin, alice: Person) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a=b&c", callback_data="x y+z")]])
    for request in (HTTPXRequest(), AiohttpRequest()):
        async with make_bot(api, request) as ptb:
            await ptb.send_message(alice.id, "1 + 1 = 2 & ü", reply_markup=markup, disable_notification=True)
    httpx_call, aiohttp_call = api.calls_to("sendMessage")
    assert aiohttp_call.params == httpx_call.params
    assert aiohttp_call.params["text"] == "1 + 1 = 2 & ü"


async def test_get_updates_long_poll_returns_when_an_update_arrives(api: BotApiStandin, bot: Bot, alice: Person) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await api.wait_until(lambda: api.bot().queue.polling, timeout=5)  # the request waits at the stand-in
    assert not poll.done()
    await api.send_text(alice, "/start")
    [update] = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 3
    assert update.message is not None and update.message.text == "/start"
    assert update.message.from_user is not None and update.message.from_user.id == alice.id


@pytest.mark.parametrize("size", [256_000, 3_000_000])  # sent as bytes / as a chunked BytesIO
async def test_send_document_upload_then_reuse_file_id(api: BotApiStandin, bot: Bot, alice: Person, size: int) -> None:
    content = bytes(range(256)) * (size // 256)
    first = await bot.send_document(alice.id, InputFile(content, filename="отчёт.csv"), caption="report")
    assert first.document is not None
    assert first.document.file_name == "отчёт.csv"
    assert first.document.mime_type == "text/csv"
    assert first.document.file_size == len(content)
    assert first.caption == "report"
    again = await bot.send_document(alice.id, first.document.file_id)
    assert again.document is not None and again.document.file_unique_id == first.document.file_unique_id
    file = await bot.get_file(first.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content  # the GET path (retrieve)
    upload, reuse = api.calls_to("sendDocument")
    assert upload.params["document"] == {"upload": "отчёт.csv", "size": len(content)}
    assert reuse.params["document"] == first.document.file_id


async def test_upload_from_an_unread_file_handle_leaves_it_open(bot: Bot, alice: Person) -> None:
    handle = io.BytesIO(b"streamed")
    sent = await bot.send_document(alice.id, InputFile(handle, filename="s.txt", read_file_handle=False))
    assert sent.document is not None and sent.document.file_size == 8
    assert not handle.closed


async def test_429_raises_retry_after(api: BotApiStandin, bot: Bot, alice: Person) -> None:
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(alice.id, "hi")
    assert info.value.retry_after == dt.timedelta(seconds=7)
    await bot.send_message(alice.id, "hi")  # only the next call failed


async def test_403_raises_forbidden(api: BotApiStandin, bot: Bot, alice: Person) -> None:
    api.block(alice)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "hi")


async def test_400_raises_bad_request_with_the_description(bot: Bot, alice: Person) -> None:
    with pytest.raises(BadRequest) as info:
        await bot.send_message(alice.id, "   ")
    assert info.value.message == "Message text is empty"  # "Bad Request: message text is empty"
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "hi")


async def test_connection_refused_raises_network_error() -> None:
    port = free_port()  # nothing listens on it
    ptb = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest(), get_updates_request=AiohttpRequest())
    with pytest.raises(NetworkError, match="aiohttp.ClientConnectorError") as info:
        async with ptb:  # initialize() calls getMe
            pass
    assert not isinstance(info.value, TimedOut)
    cause = info.value.__cause__
    assert isinstance(cause, aiohttp.ClientConnectorError)
    assert isinstance(cause.os_error, ConnectionRefusedError)


async def test_read_timeout_raises_timed_out(api: BotApiStandin, bot: Bot, alice: Person) -> None:
    api.delay("sendMessage", 1.0)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "slow", read_timeout=0.2)
    assert time.monotonic() - started < 0.9


async def test_default_read_timeout_and_none(api: BotApiStandin, alice: Person) -> None:
    async with make_bot(api, AiohttpRequest(read_timeout=0.2)) as ptb:
        assert ptb.request.read_timeout == 0.2
        api.delay("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            await ptb.send_message(alice.id, "slow")
        api.delay("sendMessage", 0.4)
        await ptb.send_message(alice.id, "slow but waited for", read_timeout=None)


async def test_pool_timeout(api: BotApiStandin, alice: Person) -> None:
    async with make_bot(api, AiohttpRequest(connection_pool_size=1, pool_timeout=0.1)) as ptb:
        api.delay("sendMessage", 0.5)
        results = await asyncio.gather(ptb.send_message(alice.id, "a"), ptb.send_message(alice.id, "b"), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1 and isinstance(errors[0], TimedOut)
        assert "Pool timeout" in errors[0].message


async def test_write_timeout_on_a_stalled_upload() -> None:
    """A server that never reads: the upload stalls once the socket buffers are full."""
    accepted: list[asyncio.StreamWriter] = []

    async def never_read(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with AiohttpRequest(media_write_timeout=0.3) as request:  # read_timeout stays 5 s
            ptb = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request)
            started = time.monotonic()
            with pytest.raises(TimedOut):
                await ptb.send_document(1, InputFile(b"x" * (64 << 20), filename="big.bin"))
            assert time.monotonic() - started < 3
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_200_concurrent_send_messages(api: BotApiStandin, bot: Bot) -> None:
    people = [api.user(f"P{i}") for i in range(200)]
    sent = await asyncio.gather(*(bot.send_message(p.id, f"hello {i}") for i, p in enumerate(people)))
    assert [m.text for m in sent] == [f"hello {i}" for i in range(200)]
    assert len(api.calls_to("sendMessage")) == 200
    for i, person in enumerate(people):
        assert [m.text for m in api.messages(person)] == [f"hello {i}"]


async def test_requests_outside_initialize_shutdown_raise_runtime_error(api: BotApiStandin) -> None:
    """As with HTTPXRequest: do_request raises RuntimeError, which post() wraps in NetworkError."""
    request = AiohttpRequest()
    url = f"{api.base_url}{TOKEN}/getMe"
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    await request.initialize()
    await request.initialize()  # idempotent
    assert (await request.post(url))["id"] == 111  # type: ignore[index,call-overload]
    await request.shutdown()
    await request.shutdown()  # idempotent
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    with pytest.raises(NetworkError, match="not initialized") as info:
        await request.post(url)
    assert isinstance(info.value.__cause__, RuntimeError)
    async with request:  # usable again after a new initialize(), as HTTPXRequest is
        assert (await request.post(url))["id"] == 111  # type: ignore[index,call-overload]


async def test_http_proxy(api: BotApiStandin, alice: Person) -> None:
    """Requests go through the proxy (absolute-form request targets), which forwards them."""
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        async with (
            aiohttp.ClientSession() as session,
            session.request(request.method, request.url, data=await request.read(), headers=request.headers) as upstream,
        ):
            return web.Response(body=await upstream.read(), status=upstream.status, content_type=upstream.content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        async with make_bot(api, AiohttpRequest(proxy=f"http://127.0.0.1:{port}")) as ptb:
            await ptb.send_message(alice.id, "via proxy")
    finally:
        await runner.cleanup()
    assert seen == [f"{api.base_url}{TOKEN}/getMe", f"{api.base_url}{TOKEN}/sendMessage"]
    assert [m.text for m in api.messages(alice)] == ["via proxy"]


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="pool"):
        AiohttpRequest(connection_pool_size=0)
    with pytest.raises(ValueError, match="proxies"):
        AiohttpRequest(proxy="socks5://127.0.0.1:1080")
    assert AiohttpRequest(read_timeout=None).read_timeout is None
