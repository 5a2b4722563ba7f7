"""Counts made safe to publish: every count leaves `bots.report` as a `Figure`, which holds
the number only when it may be published.

- a count of 1 to 4 is only "fewer than 5" (`HIDE_BELOW`); 0 is shown as 0;
- in a breakdown of a total that is shown (languages of the people, how handoffs were closed,
  first-response times of the handoffs answered), the total minus the parts shown must not
  give away a hidden part: while it would be 1 to 4, the smallest part shown is withheld too
  ("5 or more");
- a percentage or a mean is only worked out from figures that are shown (`mean`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HIDE_BELOW = 5


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
    def zero(self) -> bool:
        """Nothing was counted (a hidden figure is never zero)."""
        return self.exact == 0

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


def mean(total: float, count: float) -> float | None:
    """`total / count` to one decimal, or None while `count` is not shown (or is 0)."""
    return round(total / count, 1) if Figure.of(count).shown and count > 0 else None
