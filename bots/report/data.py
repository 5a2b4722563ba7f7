"""The figures of a report: read from the `counters` table, summed over a period, made safe.

The counters (see `bots.storage.sqlite_counters`) are read with plain `sqlite3`, read-only:
they are not secret, so no key is needed. Every count leaves this module as a `Figure`, which
holds the number only when it may be published:

- a count of 1 to 4 is only "fewer than 5" (`HIDE_BELOW`); 0 is shown as 0;
- in a breakdown of a total that is shown (languages of the people, how handoffs were closed,
  first-response times of the handoffs answered), the total minus the parts shown must not
  give away a hidden part: while it would be 1 to 4, the smallest part shown is withheld too
  ("5 or more");
- a percentage or a mean is only worked out from figures that are shown.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.engine.project import Project, split_target

HIDE_BELOW = 5
TOP_ITEMS = 10
#: first-response buckets as the counters name them, with what each means
BUCKETS = {
    "15m": "within 15 minutes",
    "1h": "15 minutes to 1 hour",
    "4h": "1 to 4 hours",
    "1d": "4 hours to 1 day",
    "more": "more than a day",
}
#: how a handoff was closed, as the counters name it
CLOSED_HOW = {
    "closed": "closed by a moderator",
    "returned": "returned to the bot",
    "accepted": "application accepted",
    "declined": "application declined",
    "person": "ended by the person",
    "restart": "the person started again",
    "blocked": "the person blocked the bot",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

Counts = dict[tuple[str, str], float]  # (name, key) -> value summed over the period


class ReportError(Exception):
    """The counters cannot be read; the message says why, in one line."""


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A count as it may be published: `exact`, or only a bound (`fewer_than` 5, `at_least` 5)."""

    exact: int | None = None
    fewer_than: int | None = None
    at_least: int | None = None

    @classmethod
    def of(cls, value: float) -> Figure:
        count = round(value)
        return cls(fewer_than=HIDE_BELOW) if 0 < count < HIDE_BELOW else cls(exact=count)

    @classmethod
    def withheld(cls) -> Figure:
        """A part of at least 5 not shown, so that a small part cannot be worked out from a total."""
        return cls(at_least=HIDE_BELOW)

    @property
    def shown(self) -> bool:
        return self.exact is not None

    @property
    def sort_key(self) -> tuple[int, int]:
        """Exact figures first, largest first; then the withheld ones, then the small ones."""
        if self.exact is not None:
            return (0, -self.exact)
        return (1, 0) if self.at_least is not None else (2, 0)

    def text(self) -> str:
        if self.exact is not None:
            return f"{self.exact:,}"
        if self.at_least is not None:
            return f"{self.at_least} or more"
        return f"fewer than {self.fewer_than}"

    def to_json(self) -> int | dict[str, int]:
        if self.exact is not None:
            return self.exact
        if self.at_least is not None:
            return {"at_least": self.at_least}
        return {"fewer_than": self.fewer_than or HIDE_BELOW}

    @classmethod
    def from_json(cls, data: Any) -> Figure:
        if isinstance(data, int):
            return cls(exact=data)
        if isinstance(data, dict) and "at_least" in data:
            return cls(at_least=int(data["at_least"]))
        if isinstance(data, dict) and "fewer_than" in data:
            return cls(fewer_than=int(data["fewer_than"]))
        raise ValueError(f"not a figure: {data!r}")


def breakdown(parts: Mapping[str, float], total: float | None = None) -> dict[str, Figure]:
    """The parts of `total` as figures, none of the hidden ones derivable from the total."""
    values = {key: round(value) for key, value in parts.items()}
    figures = {key: Figure.of(value) for key, value in values.items()}
    if total is None or not Figure.of(total).shown:
        return figures
    shown = sorted((value, key) for key, value in values.items() if figures[key].shown and value > 0)
    rest = round(total) - sum(value for value, _ in shown)
    while 0 < rest < HIDE_BELOW and shown:
        value, key = shown.pop(0)
        figures[key] = Figure.withheld()
        rest += value
    return figures


# --- the period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days `since` to `until`, both included (UTC days, as the counters keep them)."""

    since: dt.date
    until: dt.date
    week: str | None = None  # `YYYY-Www` when the period is an ISO week

    @property
    def dates(self) -> str:
        return date_range(self.since, self.until)

    @property
    def label(self) -> str:
        """`week 2024-W05 (29 January – 4 February 2024)` or `1–14 March 2024`."""
        return f"week {self.week} ({self.dates})" if self.week else self.dates

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "week": self.week}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Period:
        return cls(dt.date.fromisoformat(data["since"]), dt.date.fromisoformat(data["until"]), data.get("week"))


def week_period(week: str) -> Period:
    """The ISO week `YYYY-Www`, Monday to Sunday."""
    match = WEEK.match(week.strip())
    if not match:
        raise ValueError(f"'{week}' is not an ISO week: write it as YYYY-Www, e.g. 2024-W05")
    year, number = int(match[1]), int(match[2])
    try:
        monday = dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"'{week}' is not an ISO week: {year} has no week {number}") from None
    return Period(monday, monday + dt.timedelta(days=6), f"{year}-W{number:02d}")


def last_complete_week(today: dt.date | None = None) -> Period:
    """The last ISO week that has ended by `today` (default: today, UTC)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    year, number, _ = monday.isocalendar()
    return week_period(f"{year}-W{number:02d}")


def choose_period(week: str | None, since: str | None, until: str | None, today: dt.date | None = None) -> Period:
    """The period the options of `bots report` name (ValueError says what is wrong with them)."""
    if week and (since or until):
        raise ValueError("give either --week or --since/--until, not both")
    if week:
        return week_period(week)
    if until and not since:
        raise ValueError("--until needs --since")
    if not since:
        return last_complete_week(today)
    first = _date(since, "--since")
    last = _date(until, "--until") if until else today or dt.datetime.now(dt.timezone.utc).date()
    if last < first:
        raise ValueError(f"--until {last.isoformat()} is before --since {first.isoformat()}")
    return Period(first, last)


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} takes a date as YYYY-MM-DD, not '{text}'") from None


def date_range(first: dt.date, last: dt.date) -> str:
    def day(d: dt.date, month: bool = True, year: bool = True) -> str:
        return " ".join([str(d.day)] + [MONTHS[d.month - 1]] * month + [str(d.year)] * year)

    if first == last:
        return day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{day(last)}"
    if first.year == last.year:
        return f"{day(first, year=False)} – {day(last)}"
    return f"{day(first)} – {day(last)}"


# --- reading the counters -----------------------------------------------------------------------


def read_counters(db: Path, period: Period, bots: Sequence[str] | None = None) -> dict[str, Counts]:
    """The counters of `bots` (all, with None) summed over `period`, by bot."""
    if not db.is_file():
        raise ReportError(f"{db}: no such database; the counters are in the database the bots run with (--db, $BOTS_DB or ./bots.db)")
    try:
        connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise ReportError(f"{db}: cannot open the database: {err}") from None
    try:
        found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counters'").fetchone()
        if found is None:
            raise ReportError(f"{db}: no counters in this database (it has no 'counters' table): the bots have not counted anything here yet")
        sql = "SELECT bot, name, key, SUM(value) FROM counters WHERE day >= ? AND day <= ?"
        params: list[str] = [period.since.isoformat(), period.until.isoformat()]
        if bots is not None:
            sql += f" AND bot IN ({', '.join('?' * len(bots))})"
            params += list(bots)
        rows = connection.execute(sql + " GROUP BY bot, name, key", params).fetchall()
    except sqlite3.Error as err:  # not a database, locked, ...
        raise ReportError(f"{db}: cannot read the counters: {err}") from None
    finally:
        connection.close()
    counts: dict[str, Counts] = {}
    for bot, name, key, value in rows:
        counts.setdefault(bot, {})[(name, key)] = float(value or 0)
    return counts


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: its counter key, what to call it, its figure."""

    key: str
    label: str
    figure: Figure

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "value": self.figure.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Row:
        return cls(data["key"], data["label"], Figure.from_json(data["value"]))


@dataclass(frozen=True)
class Handoffs:
    """Conversations passed to the moderators (consultations)."""

    opened: Figure
    answered: Figure
    closed: Figure
    closed_how: tuple[Row, ...] = ()
    buckets: tuple[Row, ...] = ()
    #: mean seconds from opening to the first moderator reply / to closing (None: not shown)
    first_response: float | None = None
    closing: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "opened": self.opened.to_json(),
            "answered": self.answered.to_json(),
            "closed": self.closed.to_json(),
            "closed_how": [row.to_json() for row in self.closed_how],
            "first_response_buckets": [row.to_json() for row in self.buckets],
            "mean_first_response_seconds": self.first_response,
            "mean_closing_seconds": self.closing,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Handoffs:
        return cls(
            Figure.from_json(data["opened"]),
            Figure.from_json(data["answered"]),
            Figure.from_json(data["closed"]),
            tuple(Row.from_json(row) for row in data["closed_how"]),
            tuple(Row.from_json(row) for row in data["first_response_buckets"]),
            data["mean_first_response_seconds"],
            data["mean_closing_seconds"],
        )


@dataclass(frozen=True)
class Item:
    """A catalog item opened (its details shown), and how often it was in a results list."""

    catalog: str
    id: str
    title: str  # the id when the catalog no longer has it
    known: bool
    opened: Figure
    shown: Figure

    def to_json(self) -> dict[str, Any]:
        return {
            "catalog": self.catalog,
            "id": self.id,
            "title": self.title if self.known else None,
            "opened": self.opened.to_json(),
            "shown": self.shown.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Item:
        title = data["title"]
        return cls(
            data["catalog"], data["id"], title if title is not None else data["id"], title is not None,
            Figure.from_json(data["opened"]), Figure.from_json(data["shown"]),
        )  # fmt: skip


@dataclass(frozen=True)
class Step:
    """A node of a funnel: how often it was entered, and the drop-off to the next node (percent,
    None when it is not shown: the last node, nobody entered, or either figure is hidden)."""

    node: str
    type: str
    entries: Figure
    drop_off: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "type": self.type, "entries": self.entries.to_json(), "drop_off_percent": self.drop_off}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        return cls(data["node"], data["type"], Figure.from_json(data["entries"]), data["drop_off_percent"])


@dataclass(frozen=True)
class Funnel:
    flow: str  # qualified: `mara/main`, `shared/human`
    steps: tuple[Step, ...]

    @property
    def entered(self) -> bool:
        return any(step.entries != Figure(exact=0) for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {"flow": self.flow, "steps": [step.to_json() for step in self.steps]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Funnel:
        return cls(data["flow"], tuple(Step.from_json(step) for step in data["steps"]))


@dataclass(frozen=True)
class BotReport:
    bot: str
    name: str
    active: bool  # anything counted in the period
    people: Figure
    languages: tuple[Row, ...]
    outcomes: tuple[Row, ...]
    handoffs: Handoffs
    subscribed: Figure
    unsubscribed: Figure
    items: tuple[Item, ...]
    funnels: tuple[Funnel, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "bot": self.bot,
            "name": self.name,
            "active": self.active,
            "people": self.people.to_json(),
            "languages": [row.to_json() for row in self.languages],
            "outcomes": [row.to_json() for row in self.outcomes],
            "handoffs": self.handoffs.to_json(),
            "subscribed": self.subscribed.to_json(),
            "unsubscribed": self.unsubscribed.to_json(),
            "items": [item.to_json() for item in self.items],
            "funnels": [funnel.to_json() for funnel in self.funnels],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BotReport:
        return cls(
            bot=data["bot"],
            name=data["name"],
            active=data["active"],
            people=Figure.from_json(data["people"]),
            languages=tuple(Row.from_json(row) for row in data["languages"]),
            outcomes=tuple(Row.from_json(row) for row in data["outcomes"]),
            handoffs=Handoffs.from_json(data["handoffs"]),
            subscribed=Figure.from_json(data["subscribed"]),
            unsubscribed=Figure.from_json(data["unsubscribed"]),
            items=tuple(Item.from_json(item) for item in data["items"]),
            funnels=tuple(Funnel.from_json(funnel) for funnel in data["funnels"]),
        )


@dataclass(frozen=True)
class Report:
    period: Period
    bots: tuple[BotReport, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "bots",
            "version": 1,
            "period": self.period.to_json(),
            "hidden_below": HIDE_BELOW,
            "bots": [bot.to_json() for bot in self.bots],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        return cls(Period.from_json(data["period"]), tuple(BotReport.from_json(bot) for bot in data["bots"]))


def build_report(project: Project, db: Path, period: Period, bots: Sequence[str]) -> Report:
    """The report on `bots` of `project` for `period`, from the counters in `db`."""
    counts = read_counters(db, period, bots)
    return Report(period, tuple(bot_report(project, bot, counts.get(bot, {})) for bot in bots))


def bot_report(project: Project, bot_id: str, counts: Counts) -> BotReport:
    """One bot's figures from its counters (summed over the period)."""
    by_name: dict[str, dict[str, float]] = {}
    for (name, key), value in counts.items():
        by_name.setdefault(name, {})[key] = value

    def one(name: str) -> float:
        return by_name.get(name, {}).get("", 0.0)

    loaded = project.bots.get(bot_id)
    people = one("people")
    languages = by_name.get("language", {})
    closed_how = by_name.get("handoff_closed", {})
    closed = sum(closed_how.values())
    answered = one("handoff_answered")
    answered_figure = Figure.of(answered)
    closed_figure = Figure.of(closed)
    buckets = {key: by_name.get("first_response_bucket", {}).get(key, 0.0) for key in BUCKETS}
    buckets.update(by_name.get("first_response_bucket", {}))
    handoffs = Handoffs(
        opened=Figure.of(one("handoff_opened")),
        answered=answered_figure,
        closed=closed_figure,
        closed_how=_rows(breakdown(closed_how, closed), CLOSED_HOW, sort=True),
        buckets=_rows(breakdown(buckets, answered), BUCKETS, sort=False),
        first_response=_mean(one("first_response_seconds"), answered, answered_figure),
        closing=_mean(one("closing_seconds"), closed, closed_figure),
    )
    return BotReport(
        bot=bot_id,
        name=loaded.config.name if loaded else bot_id,
        active=any(value for value in counts.values()),
        people=Figure.of(people),
        languages=_rows(breakdown(languages, people), {key: language_name(key) for key in languages}, sort=True),
        outcomes=_rows(breakdown(by_name.get("outcome", {})), {}, sort=True),
        handoffs=handoffs,
        subscribed=Figure.of(one("subscribed")),
        unsubscribed=Figure.of(one("unsubscribed")),
        items=_items(project, by_name.get("item_opened", {}), by_name.get("item_shown", {})),
        funnels=tuple(funnel(project, flow, by_name.get("node", {})) for flow in bot_flows(project, bot_id)) if loaded else (),
    )


def _rows(figures: Mapping[str, Figure], labels: Mapping[str, str], *, sort: bool) -> tuple[Row, ...]:
    rows = [Row(key, labels.get(key, key), figure) for key, figure in figures.items()]
    if sort:  # hidden ones by name, so that their order tells nothing
        rows.sort(key=lambda row: (row.figure.sort_key, row.label, row.key))
    return tuple(rows)


def _mean(total: float, count: float, figure: Figure) -> float | None:
    return round(total / count, 1) if figure.shown and count > 0 else None


def language_name(code: str) -> str:
    """`Belarusian (be)`, or the code as it is when Babel does not know it."""
    try:
        from babel import Locale

        name = Locale.parse(code.replace("-", "_")).get_display_name("en")
    except Exception:  # an unknown or malformed code: show it as it is
        return code or "unknown"
    return f"{name} ({code})" if name else code


def _items(project: Project, opened: Mapping[str, float], shown: Mapping[str, float]) -> tuple[Item, ...]:
    items = []
    for key, value in opened.items():
        if round(value) <= 0:
            continue
        catalog_id, _, item_id = key.partition("/")
        catalog = project.catalogs.get(catalog_id)
        found = catalog.by_id.get(item_id) if catalog else None
        title = found.title if found else item_id or key
        items.append(Item(catalog_id, item_id, title, found is not None, Figure.of(value), Figure.of(shown.get(key, 0.0))))
    items.sort(key=lambda item: (item.opened.sort_key, item.title, item.catalog, item.id))
    return tuple(items[:TOP_ITEMS])


# --- funnels ------------------------------------------------------------------------------------


def bot_flows(project: Project, bot_id: str) -> list[str]:
    """The bot's own flows in their order, then the other flows it reaches (shared ones), by name."""
    own = [f"{bot_id}/{flow}" for flow in project.bots[bot_id].flows]
    reached, _ = project.reached(bot_id)
    return own + sorted(reached - set(own))


def flow_order(project: Project, qualified: str) -> list[str]:
    """The nodes of a flow: the start node, then those it leads to, breadth first in the order
    of `targets()`; then any others in the order of the file."""
    flow = project.flow(qualified)
    if flow is None:
        return []
    order: list[str] = []
    queue = deque([flow.start])
    while queue:
        node_id = queue.popleft()
        node = flow.node(node_id)
        if node_id in order or node is None:
            continue
        order.append(node_id)
        for _, target in node.targets():
            target_flow, target_node = split_target(target, qualified)
            if target_flow == qualified:
                queue.append(target_node)
    return order + [node_id for node_id in flow.nodes if node_id not in order]


def funnel(project: Project, qualified: str, entries: Mapping[str, float]) -> Funnel:
    """Entries per node of a flow, with the drop-off from each node to the next in that order."""
    flow = project.flow(qualified)
    nodes = flow_order(project, qualified)
    values = [round(entries.get(f"{qualified}:{node_id}", 0.0)) for node_id in nodes]
    figures = [Figure.of(value) for value in values]
    steps = []
    for index, node_id in enumerate(nodes):
        drop: float | None = None
        if index + 1 < len(nodes) and figures[index].shown and figures[index + 1].shown and values[index] > 0:
            drop = round((values[index] - values[index + 1]) * 100 / values[index], 1)
        node = flow.node(node_id) if flow else None
        steps.append(Step(node_id, node.type if node else "", figures[index], drop))
    return Funnel(qualified, tuple(steps))

