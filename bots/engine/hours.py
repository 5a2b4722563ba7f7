"""When the moderators answer: a bot's optional `hours` in `bot.yaml` (an extension).

```yaml
hours:
  timezone: Europe/Minsk
  days: [mon, tue, wed, thu, fri]
  from: "10:00"
  to: "19:00"
```

Outside these hours a person who reaches a `handoff` is told when to expect an answer,
in their own language.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, Literal

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_PATTERN = r"^(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)$"  # 24:00: until midnight, as `to`


def _weekdays() -> list[Day]:
    return ["mon", "tue", "wed", "thu", "fri"]


class OfficeHours(BaseModel):
    """The moderators' working hours: the same hours on each of `days`, in `timezone`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    timezone: str = "UTC"
    days: list[Day] = Field(default_factory=_weekdays, min_length=1)
    opens: str = Field(default="09:00", alias="from", pattern=TIME_PATTERN)
    closes: str = Field(default="18:00", alias="to", pattern=TIME_PATTERN)

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _unquoted_time(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 10:00 as the sexagesimal number 600
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value // 60}:{value % 60:02d}"
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone; write it like Europe/Minsk or Europe/Warsaw") from None
        return value

    @model_validator(mode="after")
    def _order(self) -> OfficeHours:
        if self._minutes(self.opens) >= self._minutes(self.closes):
            raise ValueError(f"'from' ({self.opens}) must be earlier than 'to' ({self.closes})")
        return self

    @staticmethod
    def _minutes(value: str) -> int:
        hours, _, minutes = value.partition(":")
        return int(hours) * 60 + int(minutes)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def _at(self, day: dt.date, value: str) -> dt.datetime:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=self.zone)
        return start + dt.timedelta(minutes=self._minutes(value))

    def is_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone)
        if DAYS[local.weekday()] not in self.days:
            return False
        return self._at(local.date(), self.opens) <= local < self._at(local.date(), self.closes)

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The next moment the moderators start work, after `now` (in the bot's time zone)."""
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            opening = self._at(day, self.opens)
            if DAYS[day.weekday()] in self.days and opening > local:
                return opening
        raise AssertionError("a week always has an opening")  # pragma: no cover - days is never empty

    def describe(self, lang: str) -> str:
        """E.g. "Monday – Friday, 10:00–19:00 (Europe/Minsk)" in the person's language."""
        locale = lang.replace("-", "_")
        names = get_day_names("wide", locale=locale)
        indexes = sorted(DAYS.index(d) for d in set(self.days))
        if len(indexes) > 2 and indexes == list(range(indexes[0], indexes[-1] + 1)):
            days = f"{names[indexes[0]]} – {names[indexes[-1]]}"
        else:
            days = format_list([names[i] for i in indexes], locale=locale)
        today = dt.date(2000, 1, 3)
        opens = format_time(self._at(today, self.opens).time(), "short", locale=locale)
        closes = format_time(self._at(today, self.closes).time(), "short", locale=locale)
        return f"{days}, {opens}–{closes} ({self.timezone})"

    def describe_opening(self, now: dt.datetime, lang: str) -> str:
        """The next opening as the person reads it, e.g. "Monday, 10:00 AM" or "понедельник, 10:00"."""
        opening = self.next_opening(now)
        locale = lang.replace("-", "_")
        day = format_date(opening.date(), "EEEE", locale=locale)
        return f"{day}, {format_time(opening.time(), 'short', locale=locale)}"
