"""What every bot understands, and what happens when things go wrong."""

from __future__ import annotations

import logging

import pytest

from bots.engine import events as ev
from bots.engine.outputs import Problem, Say
from tests.support.engine import said

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
    next: note
  note:
    type: input
    text: "Note for {{ colour }} {{ size }}?"
    save: note
    next: done
  done:
    type: end
    text: "Done: {{ colour }} {{ size }} {{ note }}"
"""


def test_back_asks_the_previous_question_again_with_its_answer_forgotten(chat):
    c = chat(FORM)
    c.send("/start")
    c.press("Blue")
    c.send("3")
    assert c.state.vars == {"colour": "blue", "size": 3}
    outputs = c.send("/back")
    assert said(outputs) == "Size?"
    assert c.state.vars == {"colour": "blue"}
    assert said(c.send("/back")) == "Colour?\n[Red]\n[Blue]"
    assert c.state.vars == {}
    c.press("Red")
    c.send("5")
    assert "Done: red 5 fine" in said(c.send("fine"))


def test_back_at_the_first_question_says_so(chat):
    c = chat(FORM)
    c.send("/start")
    assert said(c.send("/back")) == "There is no earlier question to go back to.\nColour?\n[Red]\n[Blue]"


def test_back_after_the_end_returns_to_the_last_question(chat):
    c = chat(FORM)
    c.send("/start")
    c.press("Red")
    c.send("1")
    c.send("x")
    assert c.state.status == "ended"
    assert said(c.send("/back")) == "Note for red 1?"
    assert "note" not in c.state.vars


def test_start_begins_again_and_forgets_everything(chat):
    c = chat(FORM)
    c.send("/start")
    c.press("Red")
    assert said(c.send("/start")) == "Colour?\n[Red]\n[Blue]"
    assert c.state.vars == {}


def test_help_explains_then_asks_the_current_question_again(chat):
    c = chat(FORM)
    c.send("/start")
    c.press("Red")
    text = said(c.send("/help"))
    assert "/back: go back to the previous question" in text
    assert text.endswith("Size?")


def test_unknown_command_is_not_taken_as_an_answer(chat):
    c = chat(FORM)
    c.send("/start")
    c.press("Red")
    text = said(c.send("/weather"))
    assert "I don't know that command" in text
    assert "size" not in c.state.vars


def test_an_expired_button_changes_nothing(chat):
    c = chat(FORM)
    c.send("/start")
    old_red = c.buttons[0]
    c.press("Blue")
    before = c.state.model_copy(deep=True)
    outputs = c.handle(ev.Press(old_red.data))
    assert said(outputs) == "This menu has expired. Here is where we are now:\nSize?"
    assert c.state.vars == before.vars and c.state.stack == before.stack


@pytest.mark.parametrize("data", ["", "x", "999:o0", "1:o99", "1:zz", "1:", ":o0", "1:o-1", "\x00" * 64])
def test_forged_button_data_changes_nothing(chat, data):
    c = chat(FORM)
    c.send("/start")
    before = c.state.model_copy(deep=True)
    outputs = c.handle(ev.Press(data))
    assert "Colour?" in said(outputs)
    assert c.state.vars == before.vars and c.state.stack == before.stack


def test_a_typed_message_after_the_end_starts_again(chat):
    c = chat(FORM)
    c.send("/start")
    c.press("Red")
    c.send("1")
    c.send("ok")
    assert said(c.send("hello")) == "Colour?\n[Red]\n[Blue]"


def test_first_contact_with_any_message_starts_the_conversation(chat):
    c = chat(FORM, lang=None)
    assert said(c.send("hi")) == "Colour?\n[Red]\n[Blue]"
    assert c.state.lang == "en"


def test_language_from_the_person_when_offered(chat):
    c = chat(FORM, lang="ru-RU")
    c.send("/start")
    assert c.state.lang == "ru"
    c2 = chat(FORM, lang="de")
    c2.send("/start")
    assert c2.state.lang == "en"  # not offered: the bot's first locale
    c2.handle(ev.SetLanguage("ru"))
    assert c2.state.lang == "ru"


def test_a_template_failing_at_run_time_apologises_and_keeps_the_state(chat, caplog):
    c = chat(
        """\
        start: ask
        nodes:
          ask:
            type: input
            kind: number
            text: "Number?"
            save: n
            next: show
          show:
            type: message
            text: "{{ n.bad.attribute() }}"
        """
    )
    c.send("/start")
    before = c.state.model_copy(deep=True)
    with caplog.at_level(logging.ERROR):
        outputs = c.send("42")
    assert isinstance(outputs[0], Say) and "something went wrong" in outputs[0].text
    assert any(isinstance(o, Problem) and o.where == "demo/main:show" for o in outputs)
    assert c.state == before  # the person can try again; nothing half-done was kept
    # logged once, by the harness of `bots test` (the engine logs nothing), with the place
    # and never the person's words
    assert [r.getMessage().partition(":")[0] for r in caplog.records] == ["flow problem at demo/main"]
    assert "42" not in caplog.text


def test_an_endless_loop_without_questions_is_stopped(chat):
    c = chat(
        """\
        start: a
        nodes:
          a:
            type: set
            values: {n: "1"}
            next: b
          b:
            type: branch
            cases:
              - {when: "true", next: a}
        """
    )
    outputs = c.send("/start")
    assert any(isinstance(o, Problem) and "loops" in o.detail for o in outputs)


def test_sandbox_refuses_python_internals_and_huge_values(chat):
    c = chat(
        """\
        start: a
        nodes:
          a:
            type: set
            values:
              x: "''.__class__.__mro__"
            next: b
          b:
            type: message
            text: "{{ x }}"
        """
    )
    outputs = c.send("/start")
    assert any(isinstance(o, Problem) for o in outputs)
    c2 = chat(
        """\
        start: a
        nodes:
          a:
            type: set
            values:
              x: "'a' * 100000000"
        """
    )
    assert any(isinstance(o, Problem) for o in c2.send("/start"))


def test_set_stores_plain_data_only(chat):
    c = chat(
        """\
        start: a
        nodes:
          a:
            type: set
            values:
              missing: "nothing_here"
              pair: "(1, 2)"
              text: "'<b>' ~ 'x'"
            next: b
          b:
            type: input
            text: "?"
            save: z
        """
    )
    c.send("/start")
    assert c.state.vars == {"missing": None, "pair": [1, 2], "text": "<b>x"}
    assert c.state.from_json(c.state.to_json()) == c.state


def test_language_menu_switches_and_remembers(chat):
    c = chat(FORM)
    c.send("/start")
    c.press("Red")
    outputs = c.send("/language")
    assert said(outputs) == "Choose your language:\n[English]\n[Русский]"
    text = said(c.press("Русский"))
    assert c.state.lang == "ru"
    assert "Size?" in text  # the current question again, now in the chosen language
    assert c.state.vars == {"colour": "red"}


def test_a_forged_language_button_changes_nothing(chat):
    c = chat(FORM)
    c.send("/start")
    outputs = c.handle(ev.Press("L:de"))
    assert c.state.lang == "en"
    assert "This menu has expired" in said(outputs)
