"""Rendering engine outputs as Bot API calls, and keeping to Telegram's pace."""

from __future__ import annotations

import asyncio

import pytest

from bots.engine.outputs import Button, Chosen, Say
from bots.telegram.pacing import Pacer
from bots.telegram.render import Pressed, render, split_text


def test_long_texts_are_split_at_paragraphs_never_mid_word() -> None:
    paragraph = ("word " * 300).strip()  # 1,499 characters
    text = "\n\n".join([paragraph] * 5)
    chunks = split_text(text)
    assert all(len(c) <= 4096 for c in chunks)
    assert "\n\n".join(chunks) == text
    assert all(not c.startswith(" ") and not c.endswith(" ") for c in chunks)
    one_line = "abc " * 2000
    chunks = split_text(one_line.strip())
    assert all(len(c) <= 4096 for c in chunks) and all(c.endswith("abc") for c in chunks)
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]  # a single endless word must still fit


def test_a_question_keeps_its_keyboard_on_the_last_part() -> None:
    say = Say("a\n\n" + "b" * 4095, (Button("Yes", "1:o0"),))
    calls = render("c", 7, [say], None)
    assert [c.method for c in calls] == ["sendMessage", "sendMessage"]
    assert "reply_markup" not in calls[0].params
    assert calls[1].params["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "1:o0"}]]}


def test_a_press_asks_anew_then_edits_the_pressed_message() -> None:
    pressed = Pressed(42, "Colour?")
    calls = render("c", 7, [Chosen("Blue & <b>"), Say("Size?")], pressed)
    assert calls[0].method == "sendMessage" and calls[0].params["text"] == "Size?"
    assert calls[1].method == "editMessageText"
    assert calls[1].params["message_id"] == 42
    assert calls[1].params["text"] == "Colour?\n\n✅ Blue &amp; &lt;b&gt;"  # the label is escaped
    assert "reply_markup" not in calls[1].params  # the keyboard goes


def test_a_ticked_option_updates_the_keyboard_in_place() -> None:
    calls = render("c", 7, [Say("Tick", (Button("✅ A", "3:o0"),), replace=True)], Pressed(5, "Tick"))
    assert [c.method for c in calls] == ["editMessageText"]
    assert calls[0].params["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ A"


def test_documents_follow_their_text() -> None:
    calls = render("c", 7, [Say("Guide:", document="guides/a.md")], None)
    assert [c.method for c in calls] == ["sendMessage", "sendDocument"]
    assert calls[1].params["document"] == {"path": "guides/a.md"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    return waits


async def test_one_chat_gets_a_burst_then_one_message_a_second(slept: list[float]) -> None:
    pacer = Pacer(clock=FakeClock(), chat_burst=3)
    for _ in range(5):
        await pacer.acquire(1)
    assert slept == [1.0, 2.0]  # three pass at once, then the fourth and fifth wait


async def test_groups_get_twenty_a_minute(slept: list[float]) -> None:
    pacer = Pacer(clock=FakeClock(), group_burst=1)
    await pacer.acquire(-100)
    await pacer.acquire(-100)
    assert slept == [3.0]


async def test_all_chats_together_keep_to_thirty_a_second(slept: list[float]) -> None:
    pacer = Pacer(clock=FakeClock())
    for chat in range(31):
        await pacer.acquire(chat)
    assert slept == [pytest.approx(1 / 30, abs=0.001)]


async def test_a_429_pauses_every_chat_and_pace_off_still_obeys_it(slept: list[float]) -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, enabled=False)
    for chat in range(100):
        await pacer.acquire(chat)
    assert slept == []
    pacer.pause(5)
    await pacer.acquire(1)
    assert slept == [5.0]


async def test_a_groups_429_holds_back_only_that_group(slept: list[float]) -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, enabled=False)
    pacer.pause(30, -100)  # the moderators' group hit its own limit
    await pacer.acquire(7)  # a person is not held back
    assert slept == []
    await pacer.acquire(-100)
    assert slept == [30.0]
    clock.now = 31
    await pacer.acquire(-100)
    assert slept == [30.0] and -100 not in pacer.chat_paused
