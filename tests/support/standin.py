"""The Bot API stand-in as the tests start it, and the people's side of a conversation:
send something, wait for what the bot answers."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bots.testing.standin import BotApiStandin, Message, Person

TOKEN = "123456:TEST-token-for-the-stand-in"  # the demo bot's (DEMO_TOKEN)


def standin(*tokens: str, **options: Any) -> BotApiStandin:
    """A stand-in for `tokens` (the demo bot's when none are given) keeping a long call log:
    `async with standin() as api: ...`."""
    options.setdefault("call_log_size", 100_000)
    return BotApiStandin(tokens=list(tokens) or [TOKEN], **options)


async def answers(
    api: BotApiStandin, who: Person, text: str, count: int = 1, *, timeout: float = 15, **where: Any
) -> list[Message]:
    """Send `text` as `who` and wait for the bot's next `count` messages in that chat;
    `where` takes the stand-in's `bot=`, `chat=` and `topic=`."""
    await api.send_text(who, text, **where)
    return await api.wait_for_messages(where.get("chat") or who, count, timeout=timeout, **_reading(where))


async def greeting(api: BotApiStandin, who: Person, *, timeout: float = 15, bot: Any = None) -> Message:
    """`/start` from `who`, and the bot's first message."""
    [first] = await answers(api, who, "/start", timeout=timeout, bot=bot)
    return first


def _reading(where: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in where.items() if name in ("bot", "topic")}


async def escalate(api: BotApiStandin, who: Person, region: str = "Minsk") -> None:
    """On the desk project's flow: from /start to a handoff opened for `who` in `region`."""
    menu = await greeting(api, who)
    await api.press(who, menu, "Talk to a person")
    await api.wait_for_messages(who, 1, timeout=10)
    await answers(api, who, region, timeout=10)
    [told] = await answers(api, who, "They took my phone at the border", timeout=10)
    assert told.text == "A person will answer here."


def answered_once(api: BotApiStandin, people: list[Person], bot: Any = None) -> None:
    """Each of `people` got exactly one message from `bot`: answered, and nobody twice."""
    for who in people:
        assert len(api.messages(who, bot=bot)) == 1, who.first_name


def echoes(api: BotApiStandin, person: Person) -> list[str]:
    """What the echo flow (tests/telegram/conftest.py's ECHO) answered `person`, in order."""
    return [m.text for m in api.messages(person) if m.text.startswith("You said")]


def check_echoes(api: BotApiStandin, people: list[Person], expected: list[str], *, repeats_allowed: int) -> int:
    """Each person's echoes are `expected`, in order, nothing lost; a message may be answered
    twice in a row at most `repeats_allowed` times (one in flight at a kill). The repeats in all."""
    repeated_total = 0
    for person in people:
        said = echoes(api, person)
        deduplicated = [t for i, t in enumerate(said) if i == 0 or said[i - 1] != t]
        assert deduplicated == expected  # nothing lost, order kept
        repeated = sum(count - 1 for count in Counter(said).values())
        assert repeated <= repeats_allowed
        repeated_total += repeated
    return repeated_total
