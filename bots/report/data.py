"""A report built from the counters: each bot's counts summed over the period, turned into
figures that are safe to publish (see `figures`), labelled, ordered and cut to what is shown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bots.engine.project import Project
from bots.report.counters import Counts, read_counters
from bots.report.figures import Figure, breakdown, mean
from bots.report.funnels import bot_flows, funnel
from bots.report.model import BotReport, Handoffs, Item, Report, Row
from bots.report.period import Period

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


def build_report(project: Project, db: Path | str, period: Period, bots: Sequence[str]) -> Report:
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
    buckets = {**dict.fromkeys(BUCKETS, 0.0), **by_name.get("first_response_bucket", {})}
    handoffs = Handoffs(
        opened=Figure.of(one("handoff_opened")),
        answered=Figure.of(answered),
        closed=Figure.of(closed),
        closed_how=_rows(breakdown(closed_how, closed), CLOSED_HOW, sort=True),
        buckets=_rows(breakdown(buckets, answered), BUCKETS, sort=False),
        first_response=mean(one("first_response_seconds"), answered),
        closing=mean(one("closing_seconds"), closed),
    )
    return BotReport(
        bot=bot_id,
        name=loaded.config.name if loaded else bot_id,
        active=any(counts.values()),
        people=Figure.of(people),
        languages=_rows(breakdown(languages, people), {key: language_name(key) for key in languages}, sort=True),
        outcomes=_rows(breakdown(by_name.get("outcome", {})), {}, sort=True),
        handoffs=handoffs,
        subscribed=Figure.of(one("subscribed")),
        unsubscribed=Figure.of(one("unsubscribed")),
        items=_items(project, by_name.get("item_opened", {}), by_name.get("item_shown", {})),
        funnels=tuple(
            funnel(project, flow, by_name.get("node", {}), by_name.get("edge", {})) for flow in bot_flows(project, bot_id)
        )
        if loaded
        else (),
    )


def _rows(figures: Mapping[str, Figure], labels: Mapping[str, str], *, sort: bool) -> tuple[Row, ...]:
    rows = [Row(key, labels.get(key, key), figure) for key, figure in figures.items()]
    if sort:  # hidden ones by name, so that their order tells nothing
        rows.sort(key=lambda row: (row.figure.sort_key, row.label, row.key))
    return tuple(rows)


def language_name(code: str) -> str:
    """`Belarusian (be)`, or the code as it is when Babel does not know it."""
    try:
        from babel import Locale

        name = Locale.parse(code.replace("-", "_")).get_display_name("en")
    except Exception:  # an unknown or malformed code: show it as it is
        return code or "unknown"
    return f"{name} ({code})" if name else code


def _items(project: Project, opened: Mapping[str, float], shown: Mapping[str, float]) -> tuple[Item, ...]:
    """The most opened catalog items, by their title while the catalog still has them."""
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
