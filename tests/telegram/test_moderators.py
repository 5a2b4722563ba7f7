"""Issue 5 end to end: handoffs to a moderators' supergroup, through `bots run` and the stand-in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.testing.standin import BotApiStandin
from tests.support.standin import escalate, greeting


def labels(message) -> list[str]:
    return [label for row in message.buttons for label, _ in row]


async def test_a_handoff_in_a_forum_from_escalation_to_close(api: BotApiStandin, desk, tmp_path: Path) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    process = desk(group.id)
    process.global_args = ("-v",)
    bot = await process.start()
    alice = api.user("Alice", username="alice_minsk")
    await escalate(api, alice)

    # a topic named from the node's topic and a pseudonym; a card without the sensitive answer
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    assert topic.name.startswith("Help: Minsk · ")
    alias = topic.name.rsplit(" ", 1)[1]
    assert len(alias) == 4
    [card] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert "New conversation: Help: Minsk" in card.text
    assert f"Person: {alias}" in card.text and "region: Minsk" in card.text and "need: talk" in card.text
    assert "phone" not in card.text and "Alice" not in card.text and "alice_minsk" not in card.text
    assert str(alice.id) not in card.text + topic.name
    assert labels(card) == ["Claim", "Close", "Return to bot"]

    # the person writes: text and a photo are copied into the topic; the flow stays silent
    await api.send_text(alice, "Can you help me?")
    await api.send_photo(alice, caption="the fine")
    relayed = await api.wait_for_messages(group, 2, topic=topic, timeout=10)
    assert relayed[0].text == "Can you help me?"
    assert relayed[1].media is not None and "photo" in relayed[1].media and relayed[1].caption == "the fine"
    assert api.messages(alice)[-1].text == "A person will answer here."

    # a moderator answers in the topic: the person gets it from the bot; a ! note stays
    await api.send_text(anna, "! she sounds scared, be gentle", chat=group, topic=topic)
    await api.send_text(anna, "Hello, we are here. What happened?", chat=group, topic=topic)
    [answer] = await api.wait_for_messages(alice, 1, timeout=10)
    assert answer.text == "Hello, we are here. What happened?" and answer.from_bot
    assert not any("gentle" in (m.text or "") for m in api.messages(alice))

    # claim, then a canned reply in the person's language
    await api.send_text(anna, "/claim", chat=group, topic=topic)
    [claimed] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert claimed.text.startswith("Anna claimed this conversation after")
    await api.wait_until(lambda: labels(card)[0] == "Claimed: Anna", timeout=10)
    await api.send_text(anna, "/canned hours", chat=group, topic=topic)
    [canned] = await api.wait_for_messages(alice, 1, timeout=10)
    assert canned.text == "Our lawyers answer on weekdays, 10:00 to 19:00."
    [noted] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert noted.text == "Sent the canned reply “hours” (en)."
    await api.send_text(anna, "/canned nope", chat=group, topic=topic)
    [unknown] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert unknown.text == "There is no canned reply “nope”. Available: hours"

    # /queue in the General topic lists it, with who claimed it
    await api.send_text(anna, "/queue", chat=group)
    queue = await api.wait_until(
        lambda: next((m for m in api.messages(group) if "Open conversations" in (m.text or "")), None), timeout=10
    )
    assert queue.to_api().get("message_thread_id") is None  # in General, not in the person's topic
    assert "Open conversations: 1" in queue.text and alias in queue.text and "claimed by Anna" in queue.text

    # close with a note: the person is told, the flow resumes at `next`; the topic is marked and closed
    await api.send_text(anna, "/close answered about the fine", chat=group, topic=topic)
    ended, after = await api.wait_for_messages(alice, 2, timeout=10)
    assert ended.text == "The conversation with our team has ended."
    assert after.text == "Anything else?"
    await api.wait_until(lambda: topic.closed and topic.name.startswith("✅ "), timeout=10)
    notice = [m for m in api.messages(group, topic=topic) if "closed this conversation" in (m.text or "")]
    assert notice[0].text == "Anna closed this conversation: answered about the fine"
    await api.wait_until(lambda: not card.buttons, timeout=10)

    # writing again reaches the flow, not the old topic
    before = len(api.messages(group))
    await api.send_text(alice, "hello again")
    hint, again = await api.wait_for_messages(alice, 2, timeout=10)
    assert again.text == "Anything else?"
    assert len(api.messages(group)) == before

    # nothing names the person in the database or the log (at -v)
    code, errors = await bot.stop()
    assert code == 0, errors
    assert "moderators' chat found (one topic per person)" in errors
    for secret in ("Alice", "alice_minsk", str(alice.id), "Anna", str(anna.id), str(group.id), "phone", "gentle"):
        assert secret not in errors
    rows = sqlite3.connect(tmp_path / "bots.db").execute("SELECT * FROM handoffs").fetchall()
    assert rows and "Alice" not in repr(rows) and "phone" not in repr(rows)


async def test_the_person_ends_it_and_return_to_bot_takes_a_node(api: BotApiStandin, desk) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    await desk(group.id).start()
    bob = api.user("Bob")
    await escalate(api, bob, "Hrodna")
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)

    await api.send_text(bob, "/end")
    ended, after = await api.wait_for_messages(bob, 2, timeout=10)
    assert ended.text == "The conversation with our team has ended." and after.text == "Anything else?"
    [notice] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert notice.text == "The person ended the conversation (/end)."
    await api.wait_until(lambda: topic.closed, timeout=10)

    # a second handoff gets a new topic; /return NODE sends the person back to the bot there
    await api.press(bob, after, "Menu")
    [menu] = await api.wait_for_messages(bob, 1, timeout=10)
    await api.press(bob, menu, "Talk to a person")
    await api.wait_for_messages(bob, 1, timeout=10)
    await api.send_text(bob, "Brest")
    await api.wait_for_messages(bob, 1, timeout=10)
    await api.send_text(bob, "private words")
    await api.wait_for_messages(bob, 1, timeout=10)
    second = await api.wait_until(
        lambda: next((t for t in api.topics(group) if t.name.startswith("Help: Brest")), None), timeout=10
    )
    await api.wait_for_messages(group, 1, topic=second, timeout=10)
    await api.send_text(anna, "/return nowhere", chat=group, topic=second)
    [wrong] = await api.wait_for_messages(group, 1, topic=second, timeout=10)
    assert wrong.text.startswith("There is no node “nowhere” in demo/main. Its nodes: after, apply, human, menu")
    await api.send_text(anna, "/return menu", chat=group, topic=second)
    back, menu_again = await api.wait_for_messages(bob, 2, timeout=10)
    assert back.text == "Our team has passed you back to the assistant."
    assert menu_again.text == "What do you need?"
    await api.wait_until(lambda: second.closed, timeout=10)


async def test_groups_without_topics_work_by_replies(api: BotApiStandin, desk) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=False, members=[anna])
    await desk(group.id).start()
    carol = api.user("Carol")
    await escalate(api, carol)
    [card] = await api.wait_for_messages(group, 1, timeout=10)
    assert "New conversation: Help: Minsk" in card.text and "Reply to this card" in card.text
    await api.send_text(carol, "Is anyone there?")
    [copy] = await api.wait_for_messages(group, 1, timeout=10)
    assert copy.text == "Is anyone there?"

    await api.send_text(anna, "just chatting among ourselves", chat=group)  # not a reply: stays in the group
    await api.send_text(anna, "Yes, I am here.", chat=group, reply_to=copy)
    [answer] = await api.wait_for_messages(carol, 1, timeout=10)
    assert answer.text == "Yes, I am here."
    assert not any("chatting" in (m.text or "") for m in api.messages(carol))

    await api.press(anna, card, "Close")
    ended, after = await api.wait_for_messages(carol, 2, timeout=10)
    assert ended.text == "The conversation with our team has ended."
    [closed] = await api.wait_for_messages(group, 1, timeout=10)
    assert closed.text == "Anna closed this conversation."

    # a moderator replying after the close is told it did not go
    await api.send_text(anna, "One more thing!", chat=group, reply_to=copy)
    [refused] = await api.wait_for_messages(group, 1, timeout=10)
    assert refused.text == "This conversation is closed: your message was not delivered."
    assert not any("One more thing" in (m.text or "") for m in api.messages(carol))


async def test_moderator_commands_from_anywhere_else_are_ignored(api: BotApiStandin, desk) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    other = api.supergroup("Somewhere else", forum=True, members=[anna])
    await desk(group.id).start()
    dave = api.user("Dave")
    await escalate(api, dave)
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    [card] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)

    await api.send_text(anna, "/queue", chat=other)
    await api.send_text(anna, "/close", chat=other)
    mallory = api.user("Mallory")
    await api.send_text(mallory, "/close")  # in a private chat: not a moderator's command
    [menu] = await api.wait_for_messages(mallory, 1, timeout=10)
    assert menu.text == "What do you need?"  # the bot's flow, nothing of the desk
    await api.send_text(mallory, "/close")
    [unknown, again] = await api.wait_for_messages(mallory, 2, timeout=10)
    assert unknown.text.startswith("I don't know that command")
    # a forged card button (another handoff id) pressed in the moderators' group does nothing
    query = await api.press(anna, card, data="H:000000000000:close")
    assert (await api.wait_for_answer(query, timeout=10)).get("text") == "This conversation is already closed."
    await api.send_text(anna, "/claim", chat=group, topic=topic)  # a real one, after all the others
    await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert not api.messages(other)
    assert not topic.closed
    await api.send_text(dave, "still here")
    [copy] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert copy.text == "still here"


async def test_applications_are_accepted_or_declined(api: BotApiStandin, desk) -> None:
    coordinator = api.user("Zina")
    group = api.supergroup("Coordinators", forum=True, members=[coordinator])
    await desk(group.id).start()
    cards = {}
    for name in ("Erin", "Frank"):
        person = api.user(name)
        menu = await greeting(api, person)
        await api.press(person, menu, "Apply")
        [told] = await api.wait_for_messages(person, 1, timeout=10)
        assert told.text == "Your application has gone to the coordinators."
        topic = await api.wait_until(lambda: next((t for t in api.topics(group) if t not in cards), None), timeout=10)
        [card] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
        assert "New application: Application" in card.text
        assert labels(card) == ["Claim", "Accept", "Decline", "Close", "Return to bot"]
        cards[topic] = (person, card)

    (erin, erin_card), (frank, frank_card) = cards.values()
    await api.press(coordinator, erin_card, "Accept")
    [accepted] = await api.wait_for_messages(erin, 1, timeout=10)
    assert accepted.text == "You are accepted! Next step: the introduction course on Monday."
    await api.press(coordinator, frank_card, "Decline")
    [declined] = await api.wait_for_messages(frank, 1, timeout=10)
    assert declined.text == "Sorry, the coordinators cannot take you on now."
    for topic in cards:
        await api.wait_until(lambda: topic.closed, timeout=10)
    notices = [m.text for t in cards for m in api.messages(group, topic=t) if m.text and "application" in m.text]
    assert "Zina accepted the application; the person has been told." in notices
    assert "Zina declined the application; the person has been told." in notices


async def test_blocked_person_and_deleted_topic(api: BotApiStandin, desk) -> None:
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    await desk(group.id).start()
    gina, hana = api.user("Gina"), api.user("Hana")
    await escalate(api, gina)
    gina_topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    await api.wait_for_messages(group, 1, topic=gina_topic, timeout=10)

    # the person blocks the bot: the moderators are told and the topic closes
    api.block(gina)
    [gone] = await api.wait_for_messages(group, 1, topic=gina_topic, timeout=10)
    assert gone.text.startswith("The person has blocked the bot")
    await api.wait_until(lambda: gina_topic.closed, timeout=10)

    # a topic deleted by hand: the next message from the person opens it again
    await escalate(api, hana, "Vitebsk")
    hana_topic = await api.wait_until(lambda: next((t for t in api.topics(group) if "Vitebsk" in t.name), None), timeout=10)
    await api.wait_for_messages(group, 1, topic=hana_topic, timeout=10)
    hana_topic.deleted = True
    await api.send_text(hana, "are you still there?")
    fresh = await api.wait_until(
        lambda: next((t for t in api.topics(group) if "Vitebsk" in t.name and t is not hana_topic), None), timeout=10
    )
    card, copy = await api.wait_for_messages(group, 2, topic=fresh, timeout=10)
    assert card.text.startswith("The topic of this conversation was deleted, so it goes on here.")
    assert copy.text == "are you still there?"


async def test_without_a_moderators_chat_people_are_told_no_one_can_answer(api: BotApiStandin, desk) -> None:
    bot = await desk(None).start()
    ivan = api.user("Ivan")
    menu = await greeting(api, ivan)
    await api.press(ivan, menu, "Apply")
    told, sorry, again = await api.wait_for_messages(ivan, 3, timeout=10)
    assert told.text == "Your application has gone to the coordinators."
    assert sorry.text.startswith("Sorry, no one from our team can be reached here right now.")
    assert again.text == "What do you need?"
    code, errors = await bot.stop()
    assert "DEMO_MODERATORS is not set" in errors
