"""A loopback stand-in for the Telegram Bot API, for end-to-end tests and benchmarks.

Unmodified python-telegram-bot works against it::

    async with BotApiStandin(tokens=["111:AAA"]) as api:
        bot = telegram.Bot("111:AAA", base_url=api.base_url, base_file_url=api.base_file_url)
        alice = api.user(first_name="Alice", language_code="ru")
        await api.send_text(alice, "/start")
        msgs = await api.wait_for_messages(alice, count=1)

See :class:`BotApiStandin` for the control API, ``httpcontrol.py`` for the same over HTTP,
and ``server.py`` for which Bot API methods are implemented.
"""

from __future__ import annotations

from bots.testing.standin.control import DEFAULT_TOKEN, BotApiStandin
from bots.testing.standin.errors import ApiError
from bots.testing.standin.faults import Call, Fault
from bots.testing.standin.model import Group, Message, Person, Topic
from bots.testing.standin.server import StandinServer
from bots.testing.standin.spec import load_spec
from bots.testing.standin.world import World

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotApiStandin",
    "Call",
    "Fault",
    "Group",
    "Message",
    "Person",
    "StandinServer",
    "Topic",
    "World",
    "load_spec",
]
