"""Reading typed answers: numbers, dates, phones, emails, free text."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

MAX_INPUT_CHARS = 4096  # Telegram's own limit on a message; the terminal could send more
MAX_FILE_BYTES = 20 * 1024 * 1024  # files larger than bots may download are not passed on

_DAY_FIRST = re.compile(r"^(\d{1,2})[./\-\s](\d{1,2})[./\-\s](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_PHONE_NOISE = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+?\d{7,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
_RELATIVE_DAY = re.compile(r"^today\s*(?:([+-])\s*(\d{1,5}))?$")


@dataclass(frozen=True)
class InvalidAnswer(Exception):
    """The answer failed a check. `reason` names a built-in message; `params` fill it in."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def resolve_day(value: Any, today: dt.date) -> dt.date | None:
    """A `min`/`max` of a date input: a date, or `today`, `today+7`, `today-30`."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = _RELATIVE_DAY.match(str(value).strip().lower())
    if not match:
        raise ValueError(f"'{value}' is not a date; write YYYY-MM-DD, today, today+N or today-N")
    sign, days = match.groups()
    offset = int(days or 0) * (-1 if sign == "-" else 1)
    return today + dt.timedelta(days=offset)


def parse_number(text: str) -> int | float:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise InvalidAnswer("error_number")
    number = float(cleaned)
    return int(number) if number.is_integer() and "." not in cleaned else number


def parse_date(text: str) -> dt.date:
    """Dates as people in the region write them: 31.12.2026, 31/12/2026, 2026-12-31."""
    cleaned = text.strip()
    try:
        if match := _ISO.match(cleaned):
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        if match := _DAY_FIRST.match(cleaned):
            day, month, year = (int(g) for g in match.groups())
            if year < 100:
                year += 2000
            return dt.date(year, month, day)
    except ValueError:
        pass
    raise InvalidAnswer("error_date")


def parse_phone(text: str) -> str:
    cleaned = _PHONE_NOISE.sub("", text.strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _PHONE.match(cleaned):
        raise InvalidAnswer("error_phone")
    return cleaned


def parse_email(text: str) -> str:
    cleaned = text.strip()
    if not _EMAIL.match(cleaned):
        raise InvalidAnswer("error_email")
    local, domain = cleaned.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _range_reason(prefix: str, low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{prefix}_range"
    return f"{prefix}_min" if low is not None else f"{prefix}_max"


def check_answer(
    text: str,
    *,
    kind: str,
    today: dt.date,
    minimum: Any = None,
    maximum: Any = None,
    max_length: int | None = None,
    pattern: re.Pattern[str] | None = None,
) -> Any:
    """Check a typed answer against an `input` node's settings and return the value to save.

    Raises `InvalidAnswer` with the reason a built-in message explains.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidAnswer("error_empty")
    limit = max_length or MAX_INPUT_CHARS
    if len(stripped) > limit:
        raise InvalidAnswer("error_too_long", {"max_length": limit})
    value: Any
    if kind == "number":
        value = parse_number(stripped)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise InvalidAnswer(_range_reason("error_number", minimum, maximum), {"min": minimum, "max": maximum})
    elif kind == "date":
        day = parse_date(stripped)
        low, high = resolve_day(minimum, today), resolve_day(maximum, today)
        if (low and day < low) or (high and day > high):
            raise InvalidAnswer(_range_reason("error_date", low, high), {"min": low, "max": high})
        value = day.isoformat()
    elif kind == "phone":
        value = parse_phone(stripped)
    elif kind == "email":
        value = parse_email(stripped)
    else:
        value = stripped
    if pattern is not None and not pattern.fullmatch(stripped):
        raise InvalidAnswer("error_pattern")
    return value
