"""The figures of a report (`bots.report.data`, `figures`, `period`): exact figures from a
hand-filled counters table, small ones hidden, nothing small derivable by subtraction, and the
period chosen by ISO week or by dates."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bots.engine import Project
from bots.report import (
    Figure,
    Period,
    Report,
    ReportError,
    build_report,
    choose_period,
    humanise,
    last_complete_week,
    render,
    week_period,
)
from bots.report.figures import breakdown
from bots.report.funnels import flow_order
from bots.report.model import BotReport
from bots.report.summary import headline

W06 = week_period("2024-W06")
HIDDEN = Figure(fewer_than=5)
WITHHELD = Figure(at_least=5)


def n(value: int) -> Figure:
    return Figure(exact=value)


def demo(project: Project, db: Path, period: Period = W06) -> BotReport:
    return build_report(project, db, period, ["demo"]).bots[0]


def table(rows: Any) -> dict[str, Figure]:
    return {row.key: row.figure for row in rows}


# --- figures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "figure", "text", "as_json"),
    [
        (0, n(0), "0", 0),
        (1, HIDDEN, "fewer than 5", {"fewer_than": 5}),
        (4.0, HIDDEN, "fewer than 5", {"fewer_than": 5}),
        (5, n(5), "5", 5),
        (1234.0, n(1234), "1,234", 1234),
    ],
)
def test_a_figure_under_5_is_only_fewer_than_5(value: float, figure: Figure, text: str, as_json: object) -> None:
    assert Figure.of(value) == figure
    assert figure.text() == text
    assert figure.to_json() == as_json
    assert Figure.from_json(as_json) == figure


def test_a_total_minus_the_parts_shown_never_gives_away_a_hidden_part() -> None:
    # 1234 - 900 - 325 - 5 would be the 4 hidden: the smallest part shown is withheld too
    assert breakdown({"ru": 900, "en": 325, "be": 4, "pl": 5}, 1234) == {"ru": n(900), "en": n(325), "be": HIDDEN, "pl": WITHHELD}
    # the hidden parts together are 5 or more: nothing more to withhold
    assert breakdown({"ru": 900, "be": 2, "pl": 3}, 905) == {"ru": n(900), "be": HIDDEN, "pl": HIDDEN}
    # as many as it takes
    assert breakdown({"a": 5, "b": 5, "c": 1}, 11) == {"a": WITHHELD, "b": n(5), "c": HIDDEN}
    # a hidden total cannot be subtracted from
    assert breakdown({"a": 3, "b": 0}, 3) == {"a": HIDDEN, "b": n(0)}
    # no total, nothing to subtract from
    assert breakdown({"a": 50, "b": 2}) == {"a": n(50), "b": HIDDEN}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (59.4, "59 s"), (60, "1 min"), (754, "13 min"), (3600, "1 h"), (7800, "2 h 10 min"),
     (86_399, "1 d"), (90_000, "1 d 1 h"), (3 * 86_400, "3 d")],
)  # fmt: skip
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    assert humanise(seconds) == text


# --- the figures of a week ----------------------------------------------------------------------


def test_headline_figures_are_exact(project: Project, db: Path) -> None:
    report = demo(project, db)
    assert report.name == "Demo & Co"
    assert report.active
    assert report.people == n(1234)
    assert report.subscribed == n(12)
    assert report.unsubscribed == HIDDEN
    assert headline(report, W06) == (
        "In the week 2024-W06 (5–11 February 2024) Demo & Co helped 1,234 people (each counted once per day they wrote). "
        "56 sought a consultation with a person from the team; 50 were answered, on average after 2 h 10 min. "
        "Conversations completed, by outcome: “helped” 120; “joined” fewer than 5. 12 people subscribed to the news."
    )


def test_outcomes_and_languages(project: Project, db: Path) -> None:
    report = demo(project, db)
    assert [(row.key, row.figure) for row in report.outcomes] == [("helped", n(120)), ("joined", HIDDEN)]
    # exact ones largest first, then the withheld, then the hidden ones
    assert [(row.label, row.figure) for row in report.languages] == [
        ("Russian (ru)", n(900)),
        ("English (en)", n(325)),
        ("Polish (pl)", WITHHELD),
        ("Belarusian (be)", HIDDEN),
    ]


def test_consultations_with_response_times(project: Project, db: Path) -> None:
    handoffs = demo(project, db).handoffs
    assert (handoffs.opened, handoffs.answered, handoffs.closed) == (n(56), n(50), n(48))
    assert handoffs.first_response == 7800
    assert handoffs.closing == 90_000
    # 50 answered: 20 + 20 + 8 + 2 + 0; the 8 is withheld, or 50 - 40 - 0 would give away the 2
    assert [(row.key, row.label, row.figure) for row in handoffs.buckets] == [
        ("15m", "within 15 minutes", n(20)),
        ("1h", "15 minutes to 1 hour", n(20)),
        ("4h", "1 to 4 hours", WITHHELD),
        ("1d", "4 hours to 1 day", HIDDEN),
        ("more", "more than a day", n(0)),
    ]
    assert [(row.label, row.figure) for row in handoffs.closed_how] == [
        ("closed by a moderator", n(40)),
        ("returned to the bot", WITHHELD),
        ("the person blocked the bot", HIDDEN),
    ]


def test_means_of_a_hidden_count_are_not_shown(project: Project, counters: Callable[..., Path]) -> None:
    db = counters(
        [
            ("handoff_opened", "", 4),
            ("handoff_answered", "", 3),
            ("first_response_seconds", "", 3 * 60),
            ("first_response_bucket", "15m", 3),
            ("handoff_closed", "closed", 3),
            ("closing_seconds", "", 3 * 600),
        ]
    )
    handoffs = demo(project, db).handoffs
    assert (handoffs.opened, handoffs.answered, handoffs.closed) == (HIDDEN, HIDDEN, HIDDEN)
    assert handoffs.first_response is None and handoffs.closing is None
    assert table(handoffs.buckets)["15m"] == HIDDEN


def test_most_opened_items_with_their_titles(project: Project, db: Path) -> None:
    items = demo(project, db).items
    assert [(item.id, item.title, item.known, item.opened, item.shown) for item in items] == [
        ("legal", "Legal aid <fund> & co", True, n(30), n(300)),
        ("rent", "Rent help", True, n(12), n(200)),
        ("gone", "gone", False, n(7), n(0)),  # no longer in the catalog: shown by its id
        ("food", "Food parcels", True, HIDDEN, n(0)),
    ]


def test_only_the_ten_most_opened_items(project: Project, counters: Callable[..., Path]) -> None:
    db = counters([("item_opened", f"programmes/x{i:02d}", 10 + i) for i in range(15)])
    assert [item.id for item in demo(project, db).items] == [f"x{i:02d}" for i in range(14, 4, -1)]


def test_nodes_in_flow_order(project: Project) -> None:
    assert flow_order(project, "demo/main") == ["welcome", "menu", "bye", "find", "person", "unused"]
    assert flow_order(project, "lib/safety") == ["tips", "more"]


def test_funnels_main_path_first_with_who_went_no_further(project: Project, db: Path) -> None:
    funnels = demo(project, db).funnels
    assert [funnel.flow for funnel in funnels] == ["demo/main", "lib/safety"]  # own flows, then shared ones
    main, safety = funnels
    assert [(s.node, s.type, s.main, s.entries, s.stopped, s.drop_off) for s in main.steps] == [
        ("welcome", "message", True, n(100), n(20), 20.0),
        ("menu", "choice", True, n(80), n(15), 18.8),  # 80 in, 65 moved on: to bye, person, find, lib/safety
        ("bye", "end", True, n(60), n(60), 100.0),  # most went from the menu to bye: the main path
        ("find", "results", False, HIDDEN, n(0), None),  # no share of a hidden figure
        ("person", "handoff", False, n(20), n(5), 25.0),
        ("unused", "message", False, n(0), n(0), None),
    ]
    assert [(s.node, s.main, s.entries, s.drop_off) for s in safety.steps] == [
        ("tips", True, n(10), 0.0),
        ("more", True, n(10), 0.0),  # back in the caller, at bye: not a drop
    ]


def test_nobody_or_everybody_went_no_further(project: Project, counters: Callable[..., Path]) -> None:
    db = counters([
        ("node", "demo/main:welcome", 9), ("node", "demo/main:menu", 9),
        ("edge", "demo/main:welcome>demo/main:menu", 9),
    ])  # fmt: skip
    welcome, menu = demo(project, db).funnels[0].steps[:2]
    assert (welcome.stopped, welcome.drop_off) == (n(0), 0.0)
    assert (menu.stopped, menu.drop_off) == (n(9), 100.0)


def test_a_few_who_went_no_further_are_shown_as_few_without_a_share(project: Project, counters: Callable[..., Path]) -> None:
    db = counters([("node", "demo/main:welcome", 9), ("edge", "demo/main:welcome>demo/main:menu", 7)])
    welcome = demo(project, db).funnels[0].steps[0]
    assert (welcome.entries, welcome.stopped, welcome.drop_off) == (n(9), HIDDEN, None)


def test_without_counted_moves_no_drop_off_is_made_up(project: Project, counters: Callable[..., Path]) -> None:
    """Counters from before moves were counted: entries only."""
    db = counters([("node", "demo/main:welcome", 100), ("node", "demo/main:menu", 80)])
    steps = demo(project, db).funnels[0].steps
    assert [(s.node, s.stopped, s.drop_off) for s in steps[:2]] == [("welcome", None, None), ("menu", None, None)]


# --- the period ---------------------------------------------------------------------------------


def test_an_iso_week_runs_monday_to_sunday() -> None:
    assert week_period("2024-W06") == Period(dt.date(2024, 2, 5), dt.date(2024, 2, 11), "2024-W06")
    assert week_period("2024-W01").since == dt.date(2024, 1, 1)
    # week 53 of 2020 ends in 2021, and week 1 of 2025 begins in 2024
    assert week_period("2020-W53") == Period(dt.date(2020, 12, 28), dt.date(2021, 1, 3), "2020-W53")
    assert week_period("2025-W01").since == dt.date(2024, 12, 30)
    assert week_period("2020-W53").label == "week 2020-W53 (28 December 2020 – 3 January 2021)"
    assert week_period("2024-W05").label == "week 2024-W05 (29 January – 4 February 2024)"


@pytest.mark.parametrize("text", ["2024-6", "2024-W6", "24-W06", "2021-W53", "2024-W00"])
def test_a_week_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an ISO week"):
        week_period(text)


@pytest.mark.parametrize(
    ("today", "week"),
    [
        (dt.date(2024, 2, 12), "2024-W06"),  # a Monday: last week has just ended
        (dt.date(2024, 2, 18), "2024-W06"),  # a Sunday: this week has not
        (dt.date(2021, 1, 6), "2020-W53"),
        (dt.date(2024, 1, 3), "2023-W52"),
    ],
)
def test_the_default_is_the_last_complete_week(today: dt.date, week: str) -> None:
    assert last_complete_week(today).week == week
    assert choose_period(None, None, None, today=today).week == week


def test_dates_are_inclusive(project: Project, db: Path) -> None:
    assert demo(project, db).people == n(1234)
    # the Sunday before and the Monday after the week count only when asked for
    assert demo(project, db, choose_period(None, "2024-02-04", "2024-02-05")).people == n(8000)
    assert demo(project, db, choose_period(None, "2024-02-11", "2024-02-12")).people == n(9234)
    assert demo(project, db, choose_period(None, "2024-02-06", "2024-02-10")).people == n(0)
    period = choose_period(None, "2024-02-01", None, today=dt.date(2024, 2, 20))
    assert (period.since, period.until, period.week) == (dt.date(2024, 2, 1), dt.date(2024, 2, 20), None)
    assert period.label == "1–20 February 2024"


@pytest.mark.parametrize(
    ("week", "since", "until", "message"),
    [
        ("2024-W06", "2024-02-01", None, "either --week or --since/--until"),
        (None, None, "2024-02-01", "--until needs --since"),
        (None, "2024-02-10", "2024-02-01", "is before --since"),
        (None, "10.02.2024", None, "YYYY-MM-DD"),
    ],
)
def test_a_period_that_makes_no_sense_is_refused(week: str | None, since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        choose_period(week, since, until)


def test_a_quiet_bot_and_another_bots_counters(project: Project, counters: Callable[..., Path]) -> None:
    db = counters([("people", "", 50)], bot="elsewhere")
    report = demo(project, db)
    assert not report.active and report.people == n(0)
    assert headline(report, W06) == "In the week 2024-W06 (5–11 February 2024) nothing was counted for Demo & Co."


# --- what cannot be read ------------------------------------------------------------------------


def test_a_missing_database_or_table_is_one_clear_error(project: Project, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"no such database"):
        build_report(project, tmp_path / "nothing.db", W06, ["demo"])
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE other (x)").connection.close()
    with pytest.raises(ReportError, match=r"no 'counters' table"):
        build_report(project, empty, W06, ["demo"])
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all, not even close" * 100)
    with pytest.raises(ReportError, match=r"cannot read"):
        build_report(project, garbage, W06, ["demo"])


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trips(project: Project, db: Path) -> None:
    report = build_report(project, db, W06, ["demo"])
    text, extra = render(report, "json")
    assert extra == {}
    assert Report.from_json(json.loads(text)) == report


def test_no_figure_under_5_anywhere_in_the_json(project: Project, db: Path) -> None:
    data = build_report(project, db, W06, ["demo"]).to_json()
    small = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}[{index}]")
        elif isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 5:
            small.append(path)

    walk(data, "")
    assert small == [".version"]
    people = data["bots"][0]
    assert people["unsubscribed"] == {"fewer_than": 5}
    assert people["languages"][2] == {"key": "pl", "label": "Polish (pl)", "value": {"at_least": 5}}
