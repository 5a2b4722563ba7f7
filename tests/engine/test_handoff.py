"""Handoffs in the engine: applications, how a handoff ends, office hours, canned replies."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from pydantic import ValidationError

from bots.console.session import Conversation
from bots.engine import CannedReply, Engine
from bots.engine.events import HandoffClosed
from bots.engine.hours import OfficeHours
from bots.engine.outputs import OpenHandoff, Say
from bots.engine.runtime import StepContext
from bots.engine.state import ConversationState
from tests.support.project import BOT_YAML

FLOW = """\
start: menu
nodes:
  menu:
    type: choice
    text: "Menu"
    save: need
    options:
      - {label: "Talk", value: talk, next: talk}
      - {label: "Apply", value: apply, next: apply}
  talk:
    type: handoff
    text: "A person will answer here."
    next: after
  after:
    type: message
    text: "Back with the bot."
  apply:
    type: handoff
    text: "Sent to the coordinators."
    topic: "Application from {{ need }}"
    accept: welcome
    decline: sorry
    next: menu
  welcome:
    type: end
    text: "Accepted: come on Monday."
  sorry:
    type: end
    text: "Not this time."
"""

HOURS = (
    BOT_YAML
    + """\
hours:
  timezone: Europe/Minsk
  days: [mon, tue, wed, thu, fri]
  from: 10:00
  to: "19:00"
"""
)


def said(outputs) -> str:
    return "\n".join(o.text for o in outputs if isinstance(o, Say))


def test_an_application_is_opened_as_such_and_accepted_or_declined(chat):
    c = chat(FLOW)
    c.send("/start")
    outputs = c.press("Apply")
    [opened] = [o for o in outputs if isinstance(o, OpenHandoff)]
    assert opened.application and opened.topic == "Application from apply" and opened.answers == {"need": "apply"}
    text = said(c.handle(HandoffClosed(how="accepted")))
    assert text == "Accepted: come on Monday."  # the node says it; no generic notice
    c.send("/start")
    c.press("Apply")
    assert said(c.handle(HandoffClosed(how="declined"))) == "Not this time."
    c.send("/start")
    c.press("Apply")
    closed = said(c.handle(HandoffClosed()))  # closed without a decision: `next`
    assert closed == "The conversation with our team has ended.\nMenu"


def test_returned_unavailable_and_a_node_given_by_the_moderator(chat):
    c = chat(FLOW)
    c.send("/start")
    outputs = c.press("Talk")
    assert not [o for o in outputs if isinstance(o, OpenHandoff)][0].application
    assert said(c.handle(HandoffClosed(how="returned"))) == "Our team has passed you back to the assistant.\nBack with the bot."
    c.send("/start")
    c.press("Talk")
    text = said(c.handle(HandoffClosed(how="unavailable")))
    assert text.startswith("Sorry, no one from our team can be reached") and text.endswith("Back with the bot.")
    c.send("/start")
    c.press("Talk")
    assert said(c.handle(HandoffClosed(resume_at="main:menu", how="returned"))).endswith("Menu")
    assert c.state.status == "waiting"


def test_a_closed_event_outside_a_handoff_changes_nothing(chat):
    c = chat(FLOW)
    c.send("/start")
    before = c.state.model_dump()
    assert c.handle(HandoffClosed(how="accepted")) == []
    assert c.state.model_dump() == before


@pytest.mark.parametrize(
    ("now", "told"),
    [
        (dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc), False),  # Monday 12:00 in Minsk
        (dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.timezone.utc), True),  # Monday 20:00
        (dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.timezone.utc), True),  # Saturday
    ],
)
def test_outside_office_hours_the_person_is_told_when_to_expect_an_answer(project_from, now, told):
    project = project_from({"flows/demo/bot.yaml": HOURS, "flows/demo/main.yaml": FLOW})
    c = Conversation(Engine(project, "demo"), lang="en", clock=lambda: now)
    c.send("/start")
    text = said(c.press("Talk"))
    assert text.startswith("A person will answer here.")
    hint = "Our team answers Monday – Friday, 10:00\u202fAM–7:00\u202fPM (Europe/Minsk)."
    assert (hint in text) is told
    if told:
        day = "Tuesday" if now.weekday() == 0 else "Monday"
        assert text.endswith(f"so expect an answer from {day}, 10:00\u202fAM.")


def test_office_hours_speak_the_persons_language():
    hours = OfficeHours.model_validate(
        {"timezone": "Europe/Minsk", "days": ["mon", "tue", "wed", "thu", "fri"], "from": "10:00", "to": "19:00"}
    )
    friday_night = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.timezone.utc)  # 21:00 in Minsk
    assert hours.describe("ru") == "понедельник – пятница, 10:00–19:00 (Europe/Minsk)"
    assert hours.describe_opening(friday_night, "ru") == "понедельник, 10:00"
    assert hours.describe_opening(friday_night, "be") == "панядзелак, 10:00"
    assert hours.next_opening(friday_night) == dt.datetime(2026, 11, 30, 10, 0, tzinfo=hours.zone)
    weekend = OfficeHours.model_validate({"days": ["sat", "sun"], "from": "12:00", "to": "14:00"})
    assert weekend.describe("en") == "Saturday and Sunday, 12:00\u202fPM–2:00\u202fPM (UTC)"


def test_office_hours_explain_their_mistakes():
    assert OfficeHours.model_validate({"from": 600, "to": 1140}).opens == "10:00"  # YAML 1.1 read 10:00 as 600
    with pytest.raises(ValidationError, match="'Minsk' is not a time zone; write it like Europe/Minsk"):
        OfficeHours.model_validate({"timezone": "Minsk"})
    with pytest.raises(ValidationError, match=r"'from' \(19:00\) must be earlier than 'to' \(10:00\)"):
        OfficeHours.model_validate({"from": "19:00", "to": "10:00"})


@pytest.mark.parametrize("time", ["24:59", "24:01", "25:00", "23:60", 24 * 60 + 59])  # the last: YAML 1.1's 24:59
def test_office_hours_are_times_of_day(time):
    with pytest.raises(ValidationError, match="should match pattern"):
        OfficeHours.model_validate({"from": "10:00", "to": time})


def test_office_hours_may_end_at_midnight():
    hours = OfficeHours.model_validate({"timezone": "UTC", "days": ["mon"], "from": "20:00", "to": "24:00"})
    monday = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
    assert hours.is_open(monday.replace(hour=23, minute=59))
    assert not hours.is_open(monday + dt.timedelta(days=1))  # Tuesday 00:00


class Russian:
    def translate(self, lang: str, message: str, context: str | None = None) -> str:
        if lang == "ru" and context == "canned:hours":
            return "Юристы отвечают по будням, {{ bot.name }}."
        return message

    def translate_plural(self, lang: str, singular: str, plural: str, count: int, context: str | None = None) -> str:
        return singular


def test_canned_replies_are_said_in_the_persons_language(project_from):
    project = project_from(
        {
            "flows/demo/main.yaml": FLOW,
            "knowledge/canned.yaml": 'canned:\n  hours: "Lawyers answer on weekdays, {{ bot.name }}."\n',
        }
    )
    engine = Engine(project, "demo", Russian())
    context = StepContext(now=dt.datetime.now(dt.timezone.utc), first_name="", language=None)
    assert engine.canned(ConversationState(lang="ru", status="handoff"), "hours", context) == CannedReply(
        "Юристы отвечают по будням, Demo."
    )
    assert engine.canned(ConversationState(lang="en", status="handoff"), "hours", context) == CannedReply(
        "Lawyers answer on weekdays, Demo."
    )
    assert engine.canned(ConversationState(lang="en"), "nope", context) is None


def test_a_canned_reply_failing_at_run_time_is_sent_as_written_and_its_problem_returned(project_from, caplog):
    project = project_from(
        {"flows/demo/main.yaml": FLOW, "knowledge/canned.yaml": 'canned:\n  odd: "Call <us> {{ bot.name.nope() }}"\n'}
    )
    context = StepContext(now=dt.datetime.now(dt.timezone.utc), first_name="", language=None)
    with caplog.at_level(logging.DEBUG):
        reply = Engine(project, "demo").canned(ConversationState(lang="en", status="handoff"), "odd", context)
    assert reply is not None and reply.text == "Call &lt;us&gt; {{ bot.name.nope() }}"
    assert reply.problem is not None and reply.problem.where == "demo/canned:odd"
    assert caplog.records == []  # the adapter logs the problem, once; the engine logs nothing


def test_a_sensitive_answer_is_wiped_when_its_flow_jumps_elsewhere(chat):
    main = """\
start: menu
nodes:
  menu:
    type: flow
    flow: a
    next: done
  done:
    type: message
    text: "Back: {{ place | default('gone') }}"
"""
    a = """\
start: ask
nodes:
  ask:
    type: input
    text: "Where?"
    save: place
    sensitive: true
    next: "b:hi"
"""
    b = """\
start: hi
nodes:
  hi:
    type: message
    text: "In b."
"""
    c = chat(main, **{"flows/demo/a.yaml": a, "flows/demo/b.yaml": b})
    c.send("/start")
    text = said(c.send("Okrestina"))
    assert text == "In b.\nBack: gone"
    assert "place" not in c.state.vars and not c.state.sensitive
