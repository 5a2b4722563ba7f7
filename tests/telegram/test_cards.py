"""The moderators' texts: cards, topic names, the queue, commands."""

from __future__ import annotations

from markupsafe import Markup

from bots.engine.i18n import SourceTexts
from bots.storage import Handoff
from bots.telegram.cards import CARD_LIMIT, TOPIC_NAME_LIMIT, ModeratorTexts, topic_name
from bots.telegram.desk_commands import Command, parse_command


def handoff(**changes) -> Handoff:
    fields = dict(
        id="abc123",
        bot="mara",
        chat="42",
        alias="K7Q2",
        flow="mara/main",
        node="human",
        topic="Mara: detained",
        lang="ru",
        application=False,
        mod_chat="-1001",
        opened_at=1_790_000_000.0,
    )
    fields.update(changes)
    return Handoff(**fields)  # type: ignore[arg-type]


def test_the_card_escapes_answers_and_stays_under_telegrams_limit() -> None:
    texts = ModeratorTexts(SourceTexts(), "en")
    card = texts.card(handoff(), "Mara", {"region": "<b>Minsk</b>", "skills": ["a", "b"]}, forum=True)
    assert "• region: &lt;b&gt;Minsk&lt;/b&gt;" in card and "• skills: a, b" in card
    assert "Person: K7Q2 · language: Русский (ru)" in card
    assert "Bot: Mara · flow mara/main, node human" in card
    huge = {f"answer{i}": "x" * 500 for i in range(50)}
    long_card = texts.card(handoff(), "Mara", huge, forum=True)
    assert len(long_card) < CARD_LIMIT + 400 and "• …" in long_card
    assert "No answers to show" in texts.card(handoff(), "Mara", {}, forum=False)
    assert "Reply to this card" in texts.card(handoff(), "Mara", {}, forum=False)


def test_card_buttons_show_who_claimed_and_applications_get_a_decision() -> None:
    texts = ModeratorTexts(SourceTexts(), "en")
    buttons = texts.card_buttons(handoff(claimed_by="Anna <3", application=True))["inline_keyboard"]
    assert [[b["text"] for b in row] for row in buttons] == [
        ["Claimed: Anna <3"],
        ["Accept", "Decline"],
        ["Close", "Return to bot"],
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for row in buttons for b in row)


def test_topic_names_fit_and_closed_ones_are_marked() -> None:
    name = topic_name("x" * 300, "K7Q2")
    assert len(name) == TOPIC_NAME_LIMIT and name.endswith("… · K7Q2")
    assert topic_name("Mara:  detained\n", "K7Q2", closed=True) == "✅ Mara: detained · K7Q2"


def test_the_queue_shows_waits_claims_and_links() -> None:
    texts = ModeratorTexts(SourceTexts(), "en")
    now = 1_790_000_000.0 + 25 * 60
    queue = texts.queue(
        [handoff(), handoff(id="def", alias="P3RX", claimed_by="Ol<e")], now, lambda h: f"https://t.me/c/1/{h.alias}"
    )
    lines = queue.splitlines()
    assert lines[0] == "<b>Open conversations: 2</b>"
    assert lines[1] == '• <a href="https://t.me/c/1/K7Q2">K7Q2 · Mara: detained · waiting 25 minutes · not claimed</a>'
    assert "claimed by Ol&lt;e" in lines[2]
    assert texts.queue([], now, lambda h: "") == "No open conversations."


def test_texts_escape_plain_values_and_keep_markup_as_it_is() -> None:
    texts = ModeratorTexts(SourceTexts(), "en")
    note = texts("mod_closed_note", name="Ol<e & 'Anna'", note=Markup("<i>sent</i>"))
    assert note == "Ol&lt;e &amp; 'Anna' closed this conversation: <i>sent</i>"
    assert isinstance(note, Markup)  # safe to pass on as a value of another text
    assert texts("mod_closed_note", name="A", note=note).endswith(": Ol&lt;e &amp; 'Anna' closed this conversation: <i>sent</i>")


def test_commands_addressed_to_another_bot_are_not_ours() -> None:
    assert parse_command("/close@MaraBot answered", "MaraBot") == Command("close", "answered")
    assert parse_command("/close@OtherBot", "MaraBot") is None
    assert parse_command("/CANNED  hours ", "MaraBot") == Command("canned", "hours")
    assert parse_command("hello /close", "MaraBot") is None
