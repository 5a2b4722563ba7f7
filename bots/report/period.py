"""The period a report covers: an ISO week or a range of days, as `bots report` is asked for
it, and its name in words."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


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
    today = today or _today()
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
    last = _date(until, "--until") if until else today or _today()
    if last < first:
        raise ValueError(f"--until {last.isoformat()} is before --since {first.isoformat()}")
    return Period(first, last)


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} takes a date as YYYY-MM-DD, not '{text}'") from None


def date_range(first: dt.date, last: dt.date) -> str:
    """`5 February 2024`, `5–11 February 2024`, `29 January – 4 February 2024`, or with both years."""

    def day(d: dt.date, month: bool = True, year: bool = True) -> str:
        return " ".join([str(d.day)] + [MONTHS[d.month - 1]] * month + [str(d.year)] * year)

    if first == last:
        return day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{day(last)}"
    if first.year == last.year:
        return f"{day(first, year=False)} – {day(last)}"
    return f"{day(first)} – {day(last)}"
