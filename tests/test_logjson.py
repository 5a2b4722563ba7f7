"""`--log-format json`: one JSON object a line, scrubbed as the readable format is."""

from __future__ import annotations

import io
import json
import logging

from bots.privacy.logjson import JsonFormatter
from tests.test_logsafe import CHAT, TEXT, TOKEN, BadRequest, assert_clean


def one_record(log_call) -> dict[str, str]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.logjson")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        log_call(log)
    finally:
        log.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    return json.loads(line)


def test_a_line_is_one_object_with_the_bot_taken_off_the_message() -> None:
    entry = one_record(lambda log: log.warning("%s: waiting %.1fs for %s", "mara", 2.5, "p-0a1b2c3d"))
    assert set(entry) == {"time", "level", "logger", "message", "bot"}
    assert entry["bot"] == "mara" and entry["message"] == "waiting 2.5s for p-0a1b2c3d"
    assert entry["level"] == "WARNING" and entry["logger"] == "tests.logjson"
    assert entry["time"].endswith("Z") and "T" in entry["time"]
    assert "bot" not in one_record(lambda log: log.info("forgot %d processed update(s)", 3))


def test_ids_tokens_and_exception_messages_are_scrubbed_as_in_text() -> None:
    def failing(log: logging.Logger) -> None:
        try:
            raise BadRequest(f"can't parse entities in {TEXT!r} for chat {CHAT}")
        except BadRequest:
            log.exception("%s: sending to %s with %s failed", "mara", CHAT, TOKEN)

    entry = one_record(failing)
    assert entry["message"] == "sending to <number> with <token> failed"
    assert "tests.test_logsafe.BadRequest: (message withheld)" in entry["exception"]
    assert_clean(json.dumps(entry))
