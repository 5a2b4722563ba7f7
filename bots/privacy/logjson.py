"""`--log-format json`: one JSON object a line, for log shippers (journald, Loki, Vector).

Each line holds `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`, and
`bot` when the line is about one bot, plus `exception` (the safe traceback) or `stack` when
the record has one. It is `bots.privacy.logsafe.SafeFormatter` underneath: the same withheld
exception messages and the same scrubbing of the message part; only the layout differs.

Which bot: a record's `bot` attribute (`log.info(..., extra={"bot": bot_id})`), else the
project's convention of starting a line with the bot's id (`log.info("%s: started", bot_id)`),
which is then taken off the message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

from bots.privacy.logsafe import SafeFormatter, scrub

__all__ = ["JsonFormatter"]

_BOT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _bot_of(record: logging.LogRecord) -> str | None:
    given = getattr(record, "bot", None)
    if isinstance(given, str) and _BOT_ID.fullmatch(given):
        return given
    args = record.args
    if isinstance(record.msg, str) and record.msg.startswith("%s: ") and isinstance(args, tuple) and args:
        first = args[0]
        if isinstance(first, str) and _BOT_ID.fullmatch(first):
            return first
    return None


class JsonFormatter(SafeFormatter):
    """A `SafeFormatter` that lays each record out as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        message = scrub(self._message(record))
        bot = _bot_of(record)
        if bot is not None and message.startswith(f"{bot}: "):
            message = message[len(bot) + 2 :]
        moment = dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
        entry: dict[str, str] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if bot is not None:
            entry["bot"] = bot
        if record.exc_info:
            # made afresh and cached, as SafeFormatter does, so other handlers show the safe text too
            record.exc_text = self.formatException(record.exc_info)
            entry["exception"] = record.exc_text
        elif record.exc_text:
            entry["exception"] = scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)
