"""`bots run` end to end: python-telegram-bot over real HTTP against the stand-in."""

from __future__ import annotations

import signal

from bots.standin import BotApiStandin


async def test_a_conversation_on_telegram(api: BotApiStandin, running) -> None:
    bot = await running().start()
    alice = api.user("Alice", language_code="en")
    await api.send_text(alice, "/start")
    [question] = await api.wait_for_messages(alice, 1, timeout=15)
    assert question.text == "Hello, Alice! Colour?"
    assert [label for row in question.buttons for label, _ in row] == ["Red", "Blue"]

    await api.press(alice, question, "Blue")
    [size] = await api.wait_for_messages(alice, 1, timeout=10)
    assert size.text == "Size for blue?"
    edited = api.messages(alice)[0]
    assert edited.text.endswith("✅ Blue") and not edited.buttons  # what was chosen; keyboard gone

    await api.send_text(alice, "7")
    messages = await api.wait_for_messages(alice, 5, timeout=10)
    assert messages[0].text == "Here is the guide."
    assert messages[1].to_api().get("document") is not None
    assert len(messages[2].text) <= 4096 and messages[2].text.startswith("Paragraph of words.")
    assert messages[3].text.startswith("Another paragraph.")
    assert messages[4].text == "Saved 7 blue."
    code, errors = await bot.stop()
    assert code == 0, errors
