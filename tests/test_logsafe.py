"""bots.privacy.logsafe: exceptions keep their frames but lose their messages; the message part is scrubbed.

The secrets below never appear on a line that raises or logs them (only their names do): a
traceback shows our source lines, and must still show none of them.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.privacy import logsafe
from bots.privacy.logsafe import (
    FORMAT,
    SafeFormatter,
    asyncio_exception_handler,
    safe_traceback,
    scrub,
)

ROOT = Path(__file__).resolve().parents[1]

NAME = "Aliaksandra Kavalenka"
USERNAME = "@sasha_kavalenka"
CHAT = 4815162342
TOKEN = "7357135713:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TEXT = "they took my brother at the square"
SECRETS = (NAME, "Kavalenka", USERNAME, "sasha_", str(CHAT), "4815162", TOKEN, TOKEN.split(":")[1], TEXT, "brother")


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into:\n{text}"


class BadRequest(Exception):
    """Like telegram.error.BadRequest: what was sent ends up in the message."""


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(FORMAT))
    log = logging.getLogger("tests.logsafe")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, stream
    log.removeHandler(handler)
    log.propagate = True
    log.setLevel(logging.NOTSET)


def send_message(chat: int, text: str) -> None:
    raise BadRequest(f"Can't parse entities in {text!r} for chat {chat} with bot {TOKEN}")


def handle_update(chat: int, text: str) -> None:
    send_message(chat, text)


def test_an_exception_is_logged_with_its_frames_and_without_its_message(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged
    try:
        handle_update(CHAT, f"{NAME} ({USERNAME}): {TEXT}")
    except BadRequest:
        log.exception("could not handle an update")
    text = stream.getvalue()
    assert_clean(text)
    assert " ERROR tests.logsafe: could not handle an update\nTraceback (most recent call last):\n" in text
    assert re.search(r'File ".*test_logsafe\.py", line \d+, in test_an_exception_is_logged', text)
    assert re.search(r'File ".*test_logsafe\.py", line \d+, in handle_update\n    send_message\(chat, text\)', text)
    assert re.search(r'File ".*test_logsafe\.py", line \d+, in send_message\n', text)
    assert text.rstrip("\n").endswith("BadRequest: (message withheld)")


def test_chained_exceptions_notes_and_causes_lose_their_messages(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged
    try:
        try:
            try:
                {}[NAME]
            except KeyError as err:
                err.add_note(USERNAME)
                raise RuntimeError(TEXT) from err
        except RuntimeError:
            handle_update(CHAT, TEXT)  # raises during the handling of the RuntimeError
    except BadRequest:
        log.exception("failed")
    text = stream.getvalue()
    assert_clean(text)
    assert "KeyError: (message withheld)\n" in text
    assert "\nThe above exception was the direct cause of the following exception:\n" in text
    assert "RuntimeError: (message withheld)\n" in text
    assert "\nDuring handling of the above exception, another exception occurred:\n" in text
    assert text.index("KeyError") < text.index("RuntimeError") < text.index("BadRequest: (message withheld)")
    assert text.count("Traceback (most recent call last):") == 3


def test_a_suppressed_context_stays_hidden_and_a_cycle_ends() -> None:
    try:
        try:
            raise ValueError(NAME)
        except ValueError:
            raise BadRequest(TEXT) from None
    except BadRequest as err:
        caught = err
    text = safe_traceback(caught)
    assert "ValueError" not in text and text.endswith("BadRequest: (message withheld)")

    first, second = ValueError(NAME), KeyError(TEXT)
    first.__context__, second.__context__ = second, first
    text = safe_traceback(first)
    assert_clean(text)
    assert text.count("(message withheld)") == 2


def test_exception_groups_lose_their_members_messages_too() -> None:
    try:
        raise ExceptionGroup(NAME, [BadRequest(TEXT), ValueError(str(CHAT))])
    except ExceptionGroup as group:
        text = safe_traceback(group)
    assert_clean(text)
    assert "ExceptionGroup: (message withheld)" in text
    assert "| test_logsafe.BadRequest: (message withheld)" in text or "| tests.test_logsafe.BadRequest: (message" in text
    assert "| ValueError: (message withheld)" in text


def test_a_token_and_long_numbers_in_a_message_are_scrubbed(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged
    log.info("polling with %s for chat %d and group %s", TOKEN, CHAT, -1001234567890)
    log.info("calling https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.info("2,388 steps/s, 0.5s, 12345 updates, line 120, p-12345678 and p-3f9a1c0e, version 3.11.7")
    text = stream.getvalue()
    assert_clean(text)
    assert "polling with <token> for chat <number> and group -<number>\n" in text
    assert "calling https://api.telegram.org/bot<token>/sendMessage\n" in text
    assert "2,388 steps/s, 0.5s, 12345 updates, line 120, p-12345678 and p-3f9a1c0e, version 3.11.7\n" in text


def test_scrub() -> None:
    assert scrub(f"{CHAT}") == "<number>"
    assert scrub("123456") == "<number>" and scrub("12345") == "12345"
    assert scrub(f"x{TOKEN}/y") == "x<token>/y"
    assert scrub("p-123456789") == "p-<number>"  # not a pseudonym: 9 digits
    assert scrub("") == ""


def test_the_time_stamp_level_and_name_are_left_alone() -> None:
    formatter = SafeFormatter(FORMAT, datefmt="%Y%m%d%H%M%S")
    record = logging.LogRecord("bots.x", logging.WARNING, __file__, 1, "chat %s", (CHAT,), None)
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(record.created))
    assert formatter.format(record) == f"{stamp} WARNING bots.x: chat <number>"
    default = SafeFormatter(FORMAT).format(record)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING bots\.x: chat <number>", default)


def test_a_traceback_cached_by_another_formatter_is_not_reused() -> None:
    try:
        send_message(CHAT, TEXT)
    except BadRequest:
        record = logging.LogRecord("bots.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert TEXT in logging.Formatter().format(record)  # caches the full text on the record
    text = SafeFormatter().format(record)
    assert_clean(text)
    assert text.endswith("BadRequest: (message withheld)")
    assert_clean(logging.Formatter().format(record))  # and the safe text is what is cached now


def test_an_exception_given_as_the_message_is_withheld(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged
    log.error(BadRequest(TEXT))
    log.info("%s", "exc_info=True outside an except block", exc_info=True)
    text = stream.getvalue()
    assert_clean(text)
    assert "ERROR tests.logsafe: test_logsafe.BadRequest: (message withheld)\n" in text or (
        "ERROR tests.logsafe: tests.test_logsafe.BadRequest: (message withheld)\n" in text
    )
    assert "exc_info=True outside an except block\nNoneType: None\n" in text


def test_a_call_that_cannot_be_formatted_says_where_it_is_not_what_it_held(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(FORMAT))
    # the standard path (Handler.handleError) would print the arguments to stderr
    handler.handle(logging.LogRecord("bots.x", logging.INFO, "/a/b.py", 7, "%d updates from %s", (NAME,), None))
    text = stream.getvalue()
    assert_clean(text)
    assert text.endswith(
        " INFO bots.x: (a log message from /a/b.py:7 could not be formatted: TypeError; its arguments are withheld)\n"
    )
    assert capsys.readouterr().err == ""


def test_a_failing_stream_reports_where_not_what(capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler = logsafe._SafeStreamHandler(Broken())
    handler.setFormatter(SafeFormatter(FORMAT))
    handler.handle(logging.LogRecord("bots.x", logging.ERROR, "/a/b.py", 7, "%s said %s", (NAME, TEXT), None))
    err = capsys.readouterr().err
    assert err == "--- logging error: OSError in a log call at /a/b.py:7\n"


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)


INSTALLED = """\
import logging, sys
from bots.privacy.logsafe import install
install(int(sys.argv[1]))
install(logging.DEBUG)  # a second call changes no handler and no root level, like basicConfig
root = logging.getLogger()
names = ("telegram", "httpx", "httpcore", "aiohttp", "aiosqlite", "asyncio")
print(len(root.handlers), root.level, *(logging.getLogger(n).level for n in names))
log = logging.getLogger("bots.demo")
log.debug("not shown at INFO")
log.info("2,388 steps/s for chat %s", sys.argv[3])
try:
    raise ValueError(sys.argv[2])
except ValueError:
    log.exception("failed")
logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", sys.argv[3])
"""


def test_install_configures_the_root_logger_safely() -> None:
    done = run_python(INSTALLED, str(logging.INFO), f"{NAME} {TEXT} {TOKEN}", str(CHAT))
    # the second install(DEBUG) sets the libraries' level again (max(DEBUG, WARNING))
    assert done.stdout.split() == ["1", str(logging.INFO)] + [str(logging.WARNING)] * 6
    err = done.stderr
    assert_clean(err)
    lines = err.splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(stamp + r" INFO bots\.demo: 2,388 steps/s for chat <number>", lines[0])
    assert re.fullmatch(stamp + r" ERROR bots\.demo: failed", lines[1])
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[3] == '  File "<string>", line 12, in <module>'
    assert lines[-1] == "ValueError: (message withheld)"
    assert "not shown" not in err and "HTTP Request" not in err


def test_install_at_error_keeps_the_libraries_at_error_too() -> None:
    done = run_python(INSTALLED, str(logging.ERROR), "x", "1")
    assert done.stdout.split() == ["1", str(logging.ERROR)] + [str(logging.WARNING)] * 6  # after install(DEBUG)
    done = run_python(INSTALLED.replace("install(logging.DEBUG)", "pass"), str(logging.ERROR), "x", "1")
    assert done.stdout.split() == ["1", str(logging.ERROR)] + [str(logging.ERROR)] * 6


def fail(name: str) -> None:
    raise ValueError(f"no topic for {name}")


async def test_the_asyncio_handler_logs_a_failing_callback_without_its_arguments(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(asyncio_exception_handler)
    try:
        loop.call_soon(fail, NAME)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    [record] = [r for r in caplog.records if r.name == "bots.asyncio"]
    assert record.levelno == logging.ERROR and record.exc_info is None
    message = record.getMessage()  # safe even through a formatter that knows nothing of this module
    assert_clean(caplog.text)
    assert message.startswith("Exception in callback (callback fail): ValueError\nTraceback (most recent call last):\n")
    assert re.search(r'line \d+, in fail\n    raise ValueError\(f"no topic for \{name\}"\)', message)
    assert message.endswith("ValueError: (message withheld)")


async def test_the_asyncio_handler_logs_a_failing_task_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    async def doomed(name: str) -> None:
        await asyncio.sleep(0)
        fail(name)

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(asyncio_exception_handler)
    try:
        task = loop.create_task(doomed(f"{NAME} {CHAT}"), name="worker")
        for _ in range(3):
            await asyncio.sleep(0)
        assert task.done()
        del task  # its exception was never retrieved: asyncio reports it when the task goes
        gc.collect()
    finally:
        loop.set_exception_handler(None)
    [record] = [r for r in caplog.records if r.name == "bots.asyncio"]
    message = record.getMessage()
    assert_clean(caplog.text)
    assert message.startswith(
        "Task exception was never retrieved (task 'worker' running "
        "test_the_asyncio_handler_logs_a_failing_task_without_its_message.<locals>.doomed): ValueError\n"
    )
    assert "in doomed\n" in message and "in fail\n" in message
    assert message.endswith("ValueError: (message withheld)")


def test_the_asyncio_handler_withholds_messages_it_does_not_know(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        asyncio_exception_handler(loop, {"message": f"Exception in callback send({CHAT}, {TEXT!r})", "handle": object()})
        asyncio_exception_handler(loop, {"message": f"oops for {NAME}"})
        future = loop.create_future()
        asyncio_exception_handler(loop, {"message": "Future exception was never retrieved", "future": future})
    finally:
        loop.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "bots.asyncio"]
    assert_clean(caplog.text)
    assert messages == [
        "Exception in callback (callback object)",
        "(message withheld) (the event loop)",
        "Future exception was never retrieved (future Future)",
    ]
