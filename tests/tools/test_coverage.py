"""`bots test --coverage`: exact figures on the fixture project `tests/tools/fixtures/coverage/`.

Its three tests go through the menu (`Topics` pressed, `Safety` typed, `Programmes` pressed),
tick one of two topics and type "done", page the programmes with More and leave with Back.
They never reach the nodes `lawyer` and `person`, nor `old` in the shared flow, nor the
buttons "Talk to a person" and "Law".
"""

from __future__ import annotations

import pytest

from bots import cli
from bots.console.session import Conversation
from bots.engine import Engine, Project
from bots.tools import coverage as cov
from bots.tools.testrunner import run_tests
from tests.tools.conftest import FIXTURES, load_fixture

FIXTURE = FIXTURES / "coverage"

REPORT = """\
demo/main: nodes 6/8 (75%), buttons 7/9 (77%)
  not reached: node lawyer (flows/demo/main.yaml:33)
  not reached: node person (flows/demo/main.yaml:43)
  not reached: button "Talk to a person" of node menu (flows/demo/main.yaml:16)
  not reached: button "Law" of node topics (flows/demo/main.yaml:24)
lib/safety: nodes 2/3 (66%), no buttons
  not reached: node old (flows/lib/safety.yaml:10)
coverage: nodes 8/11 (72%), buttons 7/9 (77%)"""


@pytest.fixture(scope="module")
def project() -> Project:
    return load_fixture("coverage")


def test_what_the_tests_reach(project: Project) -> None:
    recorded = cov.Coverage()
    report = run_tests(project, ["demo"], coverage=recorded)
    assert (report.passed, report.failed) == (3, 0)
    assert recorded.nodes == {
        ("demo/main", "welcome"),
        ("demo/main", "menu"),
        ("demo/main", "topics"),
        ("demo/main", "check"),
        ("demo/main", "programmes"),
        ("demo/main", "bye"),
        ("lib/safety", "tips"),
        ("lib/safety", "more_tips"),
    }
    assert recorded.buttons == {
        ("demo/main", "menu", "o0"),
        ("demo/main", "menu", "o1"),
        ("demo/main", "menu", "o2"),  # typed, not pressed
        ("demo/main", "topics", "o1"),
        ("demo/main", "topics", "d"),  # Done, typed
        ("demo/main", "programmes", "m"),
        ("demo/main", "programmes", "d"),
    }


def test_the_report_gives_figures_and_places(project: Project) -> None:
    recorded = cov.Coverage()
    run_tests(project, ["demo"], coverage=recorded)
    assert cov.report(project, recorded, ["demo"], display_base=FIXTURE) == REPORT


def test_the_figures_per_flow(project: Project) -> None:
    recorded = cov.Coverage()
    run_tests(project, ["demo"], coverage=recorded)
    flows = cov.flows_in_scope(project, ["demo"])
    assert flows == ["demo/main", "lib/safety"]
    figures = [
        (r.flow, r.reached_nodes, r.nodes, r.reached_buttons, r.buttons)
        for r in cov.measure(project, recorded, flows, cov.flow_sources(project, FIXTURE))
    ]
    assert figures == [("demo/main", 6, 8, 7, 9), ("lib/safety", 2, 3, 0, 0)]


def test_percentages_round_down_so_that_100_means_all() -> None:
    assert [cov.percent(a, b) for a, b in [(199, 200), (200, 200), (0, 3), (2, 3), (0, 0)]] == [
        "99%",
        "100%",
        "0%",
        "66%",
        "-",
    ]


def test_more_counts_only_where_the_catalog_can_fill_more_than_a_page(project: Project) -> None:
    node = project.node("demo/main", "programmes")
    assert node is not None
    assert [b.code for b in cov.buttons_of(node, project)] == ["d", "m"]
    wider = node.model_copy(update={"limit": 2})
    assert [(b.code, b.label) for b in cov.buttons_of(wider, project)] == [("d", "Back")]


def test_without_coverage_the_plain_engine_runs(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[type] = []
    real = Conversation.__init__

    def spy(self: Conversation, engine: Engine, **kwargs: object) -> None:
        made.append(type(engine))
        assert kwargs.get("on_button") is None
        real(self, engine, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Conversation, "__init__", spy)
    run_tests(project, ["demo"])
    assert made == [Engine, Engine, Engine]


def test_an_expired_button_is_not_counted(project: Project) -> None:
    pressed: list[tuple[str, str, str]] = []
    conversation = Conversation(Engine(project, "demo"), lang="en", on_button=lambda *key: pressed.append(key))
    conversation.send("/start")
    old_buttons = conversation.buttons
    conversation.press("Topics")
    conversation.buttons = old_buttons  # the menu's buttons again: they have expired
    conversation.press("Programmes")
    assert pressed == [("demo/main", "menu", "o1")]


@pytest.mark.usefixtures("_restore_logging")
def test_bots_test_coverage(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(FIXTURE)
    assert cli.main(["test", "--coverage"]) == 0
    assert capsys.readouterr().out == REPORT + "\n\n3 passed, 0 failed\n"
    assert cli.main(["test", "demo", "--coverage"]) == 0
    assert capsys.readouterr().out == REPORT + "\n\n3 passed, 0 failed\n"
    assert cli.main(["test"]) == 0
    assert capsys.readouterr().out == "3 passed, 0 failed\n"
