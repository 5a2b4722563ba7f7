"""Logging that never shows a message's text, a name, a username, a raw Telegram id or a token.

Our own log calls never put such things in a log message: a person appears as a pseudonym
(`bots.privacy.pseudonyms`), Telegram's errors as their type or a cleaned reason. What this
module adds is the net under them:

- Exceptions are shown with their frames (file, line, function and that line of our source,
  never the values of local variables) but every exception's message is withheld, in chained
  exceptions (`raise ... from`, an exception during handling of another) and exception groups
  too: `telegram.error.BadRequest: (message withheld)`. An exception's message is where
  libraries put what they were sent (a text, a chat id, a URL with the token), and its notes
  likewise; neither is ever printed.
- The message part of every line (what the call formatted, and the exception text) is
  scrubbed as a last line of defence: anything shaped like a bot token becomes `<token>` and
  any run of 6 or more digits `<number>` (Telegram ids have 6 to 13 digits). Shorter numbers
  ("2,388 steps/s", "0.5s", "line 120") stay, as do the time stamp and the logger's name,
  which are not scrubbed, and our pseudonyms (`p-` and 8 hex digits), which may be all digits.
- A log call that cannot be formatted, or a handler that fails to write, reports where the
  call is, never its arguments (the standard `Handler.handleError` prints them).
- `asyncio_exception_handler` replaces asyncio's default one, which prints the context's
  message (a callback's repr, with its arguments) and the exception's text.

Use `install(level)` once at start-up, and `loop.set_exception_handler(asyncio_exception_handler)`
in the running loop. `safe_traceback(exc)` and `scrub(text)` are there for other callers.

What it cannot do: a library that prints to stderr itself, or an exception that escapes to
Python's own `sys.excepthook`, is not shown through here.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import textwrap
import traceback
from typing import Any

__all__ = [
    "FORMAT",
    "LIBRARY_LOGGERS",
    "SafeFormatter",
    "asyncio_exception_handler",
    "install",
    "safe_traceback",
    "scrub",
]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# libraries log requests with their contents (texts, chat ids) at debug level: never show those
LIBRARY_LOGGERS = ("telegram", "httpx", "httpcore", "aiohttp", "aiosqlite", "asyncio")
WITHHELD = "(message withheld)"

_TOKEN = re.compile(r"\d{5,12}:[A-Za-z0-9_-]{30,}")
# a pseudonym (bots.privacy.pseudonyms: "p-" and 8 hex digits) is kept whole even when its
# hex digits are all decimal; any other run of 6+ digits goes
_NUMBER = re.compile(r"\bp-[0-9a-f]{8}\b|(\d{6,})")

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def scrub(text: str) -> str:
    """`text` with anything like a bot token made `<token>` and runs of 6+ digits `<number>`."""
    text = _TOKEN.sub("<token>", text)
    return _NUMBER.sub(lambda match: "<number>" if match.group(1) else match.group(0), text)


def _type_name(kind: type[BaseException]) -> str:
    name = kind.__qualname__
    module = kind.__module__
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


def _block(exc: BaseException, seen: set[int]) -> list[str]:
    """One exception: its frames and its type, the message withheld; a group's members after it."""
    lines: list[str] = []
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    lines.append(f"{_type_name(type(exc))}: {WITHHELD}\n")
    if isinstance(exc, BaseExceptionGroup):
        for number, member in enumerate(exc.exceptions, 1):
            lines.append(f"+---------------- {number} ----------------\n")
            lines.append(textwrap.indent("".join(_chain(member, seen)), "| ", lambda _line: True))
        lines.append("+------------------------------------\n")
    return lines


def _chain(exc: BaseException, seen: set[int]) -> list[str]:
    """`exc` and what it was raised from or during, oldest first, as the standard traceback."""
    seen.add(id(exc))
    chain: list[tuple[BaseException, str]] = [(exc, "")]  # each with what links it to the next newer
    current = exc
    while True:
        if current.__cause__ is not None:
            older, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            older, link = current.__context__, _CONTEXT
        else:
            break
        if id(older) in seen:  # a cycle
            break
        seen.add(id(older))
        chain.append((older, link))
        current = older
    lines: list[str] = []
    for one, link in reversed(chain):
        lines.extend(_block(one, seen))
        if link:
            lines.append(link)
    return lines


def safe_traceback(exc: BaseException) -> str:
    """`exc`'s traceback as Python prints it, every exception's message (and notes) withheld.

    No trailing newline.
    """
    return "".join(_chain(exc, set())).rstrip("\n")


class SafeFormatter(logging.Formatter):
    """A `logging.Formatter` that withholds exceptions' messages and scrubs the message part.

    Only the message (what `record.getMessage()` gives) and the exception and stack texts are
    scrubbed: the time stamp, the level and the logger's name are ours and left as they are.
    """

    def formatException(self, ei: Any) -> str:
        _kind, value, _tb = ei
        if value is None:
            return "NoneType: None"  # exc_info=True outside an except block, as Python prints it
        return scrub(safe_traceback(value))

    def format(self, record: logging.LogRecord) -> str:
        record.message = scrub(self._message(record))
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if record.exc_info:
            # always made afresh: a text another formatter cached on the record may hold the message;
            # cached in turn, so that the other handlers of this record show the safe text too
            record.exc_text = self.formatException(record.exc_info)
            exc_text = record.exc_text
        else:
            exc_text = scrub(record.exc_text) if record.exc_text else ""  # a record made elsewhere
        if exc_text:
            if text[-1:] != "\n":
                text += "\n"
            text += exc_text
        if record.stack_info:
            if text[-1:] != "\n":
                text += "\n"
            text += scrub(self.formatStack(record.stack_info))
        return text

    @staticmethod
    def _message(record: logging.LogRecord) -> str:
        if isinstance(record.msg, BaseException):  # log.error(err): its str() is its message
            return f"{_type_name(type(record.msg))}: {WITHHELD}"
        try:
            return record.getMessage()
        except Exception as err:  # never let the standard error path print the arguments
            return (
                f"(a log message from {record.pathname}:{record.lineno} could not be formatted: "
                f"{_type_name(type(err))}; its arguments are withheld)"
            )


class _SafeStreamHandler(logging.StreamHandler):
    """A `StreamHandler` whose failures say where the log call is, not what it held."""

    def handleError(self, record: logging.LogRecord) -> None:
        if not logging.raiseExceptions:
            return
        kind = sys.exc_info()[0]
        what = _type_name(kind) if kind is not None else "an error"
        try:
            sys.stderr.write(f"--- logging error: {what} in a log call at {record.pathname}:{record.lineno}\n")
        except Exception:  # nowhere left to report to
            pass


def install(level: int, formatter: SafeFormatter | None = None) -> None:
    """Configure the root logger: stderr, `FORMAT`, `SafeFormatter` (or `formatter`, e.g.
    `bots.privacy.logjson.JsonFormatter`); the libraries at `WARNING`+.

    Like `logging.basicConfig` (which it calls), it adds its handler and sets the root's level
    only if the root logger has no handler yet; the libraries' levels are always set.
    """
    handler = _SafeStreamHandler(sys.stderr)
    handler.setFormatter(formatter or SafeFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


# --- asyncio -------------------------------------------------------------------------------

_loop_log = logging.getLogger("bots.asyncio")

# asyncio's context messages that are fixed phrases; whatever follows one (a callback's repr
# with its arguments, a transport's repr) is withheld, and so is any message not listed here
_ASYNCIO_PHRASES = (
    "Task exception was never retrieved",
    "Future exception was never retrieved",
    "Task was destroyed but it is pending!",
    "Exception in callback",
    "Unhandled exception in event loop",
    "Unhandled error in exception handler",
    "Exception in default exception handler",
    "an error occurred during closing of asynchronous generator",
    "Error on reading from the event loop self-pipe",
    "Fatal error on transport",
    "Fatal error on SSL transport",
    "Fatal read error on socket transport",
    "Fatal write error on socket transport",
    "Fatal error: protocol.data_received() call failed.",
    "SSL handshake failed",
    "Error on transport creation for incoming connection",
    "socket.accept() out of system resource",
)


def _phrase(message: object) -> str:
    if isinstance(message, str):
        for phrase in _ASYNCIO_PHRASES:
            if message.startswith(phrase):
                return phrase
    return WITHHELD


def _code_name(function: object) -> str:
    return str(getattr(function, "__qualname__", None) or type(function).__qualname__)


def _where(context: dict[str, Any]) -> str:
    """Which task, future or callback: names of our code, never their arguments or results."""
    task = context.get("task") or context.get("future")
    if isinstance(task, asyncio.Task):
        return f"task {task.get_name()!r} running {_code_name(task.get_coro())}"
    if task is not None:
        return f"future {type(task).__qualname__}"
    handle = context.get("handle")
    if handle is not None:
        return f"callback {_code_name(getattr(handle, '_callback', handle))}"
    for key in ("transport", "protocol", "asyncgen", "socket"):
        if context.get(key) is not None:
            return f"{key} {type(context[key]).__qualname__}"
    return "the event loop"


def asyncio_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """For `loop.set_exception_handler`: logs the failure safely, at ERROR on `bots.asyncio`.

    The line holds asyncio's fixed phrase (never the rest of its message), the task's name and
    coroutine (or the future's type, or the callback's name), the exception's type and its
    frames. The safe traceback is part of the message itself, so that it is safe whatever
    formatter shows it.
    """
    exc = context.get("exception")
    said, where = _phrase(context.get("message")), _where(context)
    if isinstance(exc, BaseException):
        _loop_log.error("%s (%s): %s\n%s", said, where, _type_name(type(exc)), safe_traceback(exc))
    else:
        _loop_log.error("%s (%s)", said, where)
