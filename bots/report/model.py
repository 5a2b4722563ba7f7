"""What a report holds, as the renderers and JSON see it: every count a `Figure`, already safe
to publish. Each part reads back from its JSON (`from_json`), so a report can be kept and
rendered again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bots.report.figures import HIDE_BELOW, Figure
from bots.report.period import Period


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
    """A node of a funnel: how often it was entered, how many of those went no further from it
    (None when the period has no counted moves), the drop-off (that share in percent, None when
    it is not shown: nobody entered, or either figure is hidden), and whether it is on the
    main path (the way most people went)."""

    node: str
    type: str
    entries: Figure
    drop_off: float | None = None
    stopped: Figure | None = None
    main: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "type": self.type,
            "entries": self.entries.to_json(),
            "went_no_further": self.stopped.to_json() if self.stopped is not None else None,
            "drop_off_percent": self.drop_off,
            "main_path": self.main,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        stopped = data.get("went_no_further")
        return cls(
            data["node"], data["type"], Figure.from_json(data["entries"]), data["drop_off_percent"],
            Figure.from_json(stopped) if stopped is not None else None, data.get("main_path", True),
        )  # fmt: skip


@dataclass(frozen=True)
class Funnel:
    flow: str  # qualified: `mara/main`, `shared/human`
    steps: tuple[Step, ...]

    @property
    def entered(self) -> bool:
        return any(not step.entries.zero for step in self.steps)

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
