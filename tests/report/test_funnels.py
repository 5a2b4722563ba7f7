"""Funnels from real conversations: people go through the engine, its counters are added up
in a counters table as the bots keep it, and the report says where people went no further,
whatever the order of the nodes in the file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bots.console.session import Conversation
from bots.engine import Engine, Project
from bots.loader import load_project
from bots.report import build_report, week_period
from bots.report.chart import funnel_svg
from bots.report.figures import Figure
from bots.report.model import Funnel, Step
from tests.report.conftest import BOT, MONDAY, fill, on
from tests.support.project import write_project

# in the file, the input is followed by a handoff nobody chooses and the set by a node only
# some reach: the order of the file must not matter
MAIN = """\
start: hello
nodes:
  hello:
    type: message
    text: "Hello."
    next: menu
  menu:
    type: choice
    text: "What do you need?"
    save: need
    options:
      - {label: "Count", value: count, next: how_many}
      - {label: "A person", value: person, next: person}
      - {label: "Tips", value: tips, flow: tips}
    next: bye
  how_many:
    type: input
    kind: number
    text: "How many?"
    save: count
    next: mark
  person:
    type: handoff
    text: "A person will answer."
    next: bye
  mark:
    type: set
    values:
      big: "count > 5"
    next: route
  few:
    type: message
    text: "A few."
    next: bye
  route:
    type: branch
    cases:
      - when: "big"
        next: lots
    else: few
  lots:
    type: message
    text: "Lots."
    next: bye
  bye:
    type: end
    text: "Bye."
    outcome: helped
"""

TIPS = """\
start: one
nodes:
  one:
    type: message
    text: "Tip one."
    next: two
  two:
    type: message
    text: "Tip two."
"""

Script = list[str]  # what one person does: "/start", a button's label, or a typed reply
THROUGH = ["/start", "Count", "8"], ["/start", "Count", "3"]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = write_project(
        tmp_path / "project",
        {"flows/demo/bot.yaml": BOT, "flows/demo/main.yaml": MAIN, "flows/demo/tips.yaml": TIPS},
    )
    loaded, diagnostics = load_project(root, display_base=root)
    assert not diagnostics.errors, [d.render() for d in diagnostics.errors]
    return loaded


@pytest.fixture
def report(project: Project, tmp_path: Path) -> Callable[[list[Script]], dict[str, Funnel]]:
    """The funnels after these people, each through their own conversation with the engine."""

    def run(people: list[Script]) -> dict[str, Funnel]:
        totals: Counter[tuple[str, str]] = Counter()  # as the runner adds them up
        for script in people:
            conversation = Conversation(Engine(project, "demo"), lang="en")
            for move in script:
                if move in [button.label for button in conversation.buttons]:
                    conversation.press(move)
                else:
                    conversation.send(move)
                for metric in conversation.metrics:
                    totals[(metric.name, metric.key)] += metric.value
        db = fill(tmp_path / "bots.db", on(MONDAY, *((name, key, value) for (name, key), value in totals.items())))
        (bot,) = build_report(project, db, week_period("2024-W06"), ["demo"]).bots
        return {funnel.flow: funnel for funnel in bot.funnels}

    return run


def steps(funnel: Funnel) -> dict[str, Step]:
    return {step.node: step for step in funnel.steps}


def test_nine_people_through_every_kind_of_node_drop_off_nowhere_on_the_way(report) -> None:
    main = report([THROUGH[0]] * 5 + [THROUGH[1]] * 4)["demo/main"]
    found = steps(main)
    for node in ("hello", "menu", "how_many", "mark", "route"):
        assert (node, found[node].entries, found[node].drop_off) == (node, Figure(exact=9), 0.0)
    assert found["bye"].drop_off == 100.0  # where the conversation ends
    assert (found["person"].entries, found["person"].drop_off) == (Figure(exact=0), None)
    # the main path is the way most went, not the file's order; the rest follow
    assert [s.node for s in main.steps if s.main] == ["hello", "menu", "how_many", "mark", "route", "lots", "bye"]
    assert [s.node for s in main.steps if not s.main] == ["person", "few"]


def test_who_stops_at_a_node_gives_it_a_drop_off(report) -> None:
    funnels = report([THROUGH[0]] * 9 + [["/start", "Count"]] * 5 + [["/start"]] * 6)
    found = steps(funnels["demo/main"])
    assert (found["how_many"].entries, found["how_many"].stopped) == (Figure(exact=14), Figure(exact=5))
    assert found["how_many"].drop_off == 35.7  # 5 of 14 typed nothing
    assert (found["menu"].stopped, found["menu"].drop_off) == (Figure(exact=6), 30.0)  # 6 of 20 chose nothing
    assert found["mark"].drop_off == found["route"].drop_off == 0.0  # a set and a branch wait for nobody


def test_a_few_who_stop_are_said_to_be_few(report) -> None:
    found = steps(report([THROUGH[1]] * 9 + [["/start", "Count"]])["demo/main"])
    assert (found["how_many"].entries, found["how_many"].stopped, found["how_many"].drop_off) == (
        Figure(exact=10), Figure(fewer_than=5), None,
    )  # fmt: skip


def test_a_subflow_returning_to_its_caller_is_no_drop_off(report) -> None:
    funnels = report([["/start", "Tips"]] * 6 + [["/start", "A person"]] * 5)
    tips = steps(funnels["demo/tips"])
    assert (tips["one"].entries, tips["one"].drop_off, tips["two"].drop_off) == (Figure(exact=6), 0.0, 0.0)
    main = steps(funnels["demo/main"])
    assert main["menu"].drop_off == 0.0  # into the subflow and to the person: both moves on
    assert (main["person"].stopped, main["person"].drop_off) == (Figure(exact=5), 100.0)  # still with the moderators
    assert main["bye"].entries == Figure(exact=6)  # back from the subflow, on at the menu's next


def test_the_chart_follows_the_main_path_and_draws_no_bar_for_a_hidden_figure(report) -> None:
    main = report([THROUGH[0]] * 9 + [["/start", "Count"]])["demo/main"]
    chart = funnel_svg(main, "Demo")
    rows = [line for line in chart.splitlines() if line.startswith("<g>")]
    assert [row.split("<title>")[1].split(":")[0] for row in rows] == [
        "hello",
        "menu",
        "how_many",
        "mark",
        "route",
        "lots",
        "bye",
    ]
    assert "how_many: 10 entries, fewer than 5 went no further" in chart
    hidden = Funnel(
        "demo/main",
        (Step("hello", "message", Figure(exact=9), 0.0, Figure(exact=0)), Step("menu", "choice", Figure(fewer_than=5))),
    )
    drawn = [line for line in funnel_svg(hidden, "Demo").splitlines() if line.startswith("<g>")]
    assert "<rect" in drawn[0] and "<rect" not in drawn[1] and "fewer than 5" in drawn[1]
