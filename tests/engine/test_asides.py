"""The person's own safety controls under /help (issue 13): the safety flow, vanishing
messages and the quick exit, in the engine (the Telegram side is in tests/telegram/test_vanish.py)."""

from __future__ import annotations

from bots.engine import events as ev
from bots.engine.outputs import ExitNow, VanishChosen
from tests.support.engine import said
from tests.support.project import BOT_YAML

FORM = """\
start: colour
nodes:
  colour:
    type: choice
    text: "Colour?"
    save: colour
    options:
      - {label: "Red", value: red}
      - {label: "Blue", value: blue}
    next: size
  size:
    type: input
    kind: number
    text: "Size?"
    save: size
    next: done
  done:
    type: end
    text: "Saved {{ size }} {{ colour }}."
"""

SAFETY = """\
start: menu
nodes:
  menu:
    type: choice
    text: "What would you like to know?"
    options:
      - {label: "Deleting this chat", value: delete, next: delete}
      - {label: "Back", value: back}
  delete:
    type: message
    text: "Hold the chat, then Delete."
    next: menu
"""


def with_safety(chat, *, extra: str = ""):
    files = {"flows/demo/bot.yaml": BOT_YAML + "safety: safety\n" + extra, "flows/demo/safety.yaml": SAFETY}
    return chat(FORM, **files)


def test_help_offers_safety_vanishing_forget_and_exit_last(chat) -> None:
    c = with_safety(chat)
    c.send("/start")
    c.press("Red")
    help_text = said(c.send("/help"))
    assert "[Your safety]\n[Delete our messages after…]\n[Forget everything about me]\n[Exit now]" in help_text
    assert help_text.endswith("Size?")  # then the question again


def test_the_safety_flow_comes_back_to_the_question_the_person_was_at(chat) -> None:
    c = with_safety(chat)
    c.send("/start")
    c.press("Red")
    c.send("/help")
    assert said(c.press("Your safety")).startswith("What would you like to know?")
    assert "Hold the chat, then Delete." in said(c.press("Deleting this chat"))
    assert said(c.press("Back")) == "Size?"
    assert said(c.send("4")) == "Saved 4 red."


def test_the_safety_flow_after_the_end_and_from_the_first_question(chat) -> None:
    c = with_safety(chat)
    c.send("/start")
    c.send("/help")
    c.press("Your safety")
    assert said(c.press("Back")).startswith("Colour?")
    c.press("Blue")
    c.send("3")  # the conversation ended
    c.send("/help")
    c.press("Your safety")
    c.press("Back")
    assert said(c.send("hello")).startswith("Colour?")  # a new conversation, as after any end


def test_the_person_chooses_how_old_messages_may_get(chat) -> None:
    c = with_safety(chat, extra="vanish_after: 2h\n")
    c.send("/start")
    c.send("/help")
    asked = said(c.press("Delete our messages after…"))
    assert asked.startswith("How old may our messages in this chat get?") and "Now: deleted after 2 hours." in asked
    assert asked.endswith("[1 hour]\n[1 day]\n[Never]")
    outputs = c.press("1 day")
    assert [o for o in outputs if isinstance(o, VanishChosen)] == [VanishChosen(86400)]
    assert said(outputs).startswith("Done: I will delete our messages here once they are 1 day old.\nColour?")
    assert c.state is not None and c.state.vanish == 86400
    c.send("/help")
    assert "Now: deleted after 1 day." in said(c.press("Delete our messages after…"))
    outputs = c.press("Never")
    assert c.state.vanish == 0 and VanishChosen(0) in outputs
    assert said(outputs).startswith("Done: our messages here stay until you delete them.")
    c.send("/help")
    assert "Now: they stay." in said(c.press("Delete our messages after…"))


def test_a_forged_vanish_choice_changes_nothing(chat) -> None:
    c = with_safety(chat)
    c.send("/start")
    outputs = c.handle(ev.Press("V:5"))
    assert said(outputs).startswith("This menu has expired.")
    assert c.state is not None and c.state.vanish is None


def test_the_first_message_of_a_vanishing_bot_says_so_in_one_line(chat) -> None:
    c = chat(FORM, lang=None, **{"flows/demo/bot.yaml": BOT_YAML + "vanish_after: 90m\n"})
    first = said(c.send("/start"))
    assert first == "Colour?\n\nOur messages in this chat are deleted after 90 minutes.\n[Red]\n[Blue]"
    assert "deleted after" not in said(c.send("/start"))  # only the first message of the conversation


def test_a_bot_that_does_not_vanish_says_nothing_about_it(chat) -> None:
    c = chat(FORM, lang=None)
    assert said(c.send("/start")) == "Colour?\n[Red]\n[Blue]"


def test_quick_exit_by_command_or_button_asks_nothing(chat) -> None:
    c = with_safety(chat)
    c.send("/start")
    c.press("Red")
    outputs = c.send("/x")
    assert any(isinstance(o, ExitNow) for o in outputs)
    assert said(outputs) == "Weather today: sunny, light wind."  # the one line left, and no question
    assert c.state is not None and c.state.vars == {} and c.state.status == "ended"
    c.send("/start")
    c.send("/help")
    assert said(c.press("Exit now")) == "Weather today: sunny, light wind."


def test_the_exit_command_and_its_line_are_the_bots(chat) -> None:
    bot = BOT_YAML + 'exit_command: quit\nexit_text: "Train to Vilnius: 7:40 & 16:05"\n'
    c = chat(FORM, **{"flows/demo/bot.yaml": bot})
    c.send("/start")
    assert said(c.send("/quit")) == "Train to Vilnius: 7:40 & 16:05"
    c.send("/start")
    assert said(c.send("/x")).startswith("I don't know that command.")


def test_quick_exit_works_while_a_person_from_the_team_talks(chat) -> None:
    flow = """\
start: human
nodes:
  human:
    type: handoff
    text: "A person will answer here."
"""
    c = chat(flow, **{"flows/demo/bot.yaml": BOT_YAML + "moderators_chat_env: DEMO_MODERATORS\n"})
    c.send("/start")
    assert "[Your safety]" not in said(c.send("/help"))
    assert any(isinstance(o, ExitNow) for o in c.send("/x"))
