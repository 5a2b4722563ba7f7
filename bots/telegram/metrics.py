"""What `bots run --admin` shows on `/metrics`: counts per bot, in the Prometheus text format.

The running code reports through the module functions below (`update_received`, `throttled`,
`@timed_step`, ...): one line at each place, and nothing at all happens until `bots run
--admin` activates a `Metrics` (so the engine's tests, the console and the benchmarks pay
nothing). Each `Metrics` has its own `CollectorRegistry`, never prometheus-client's global
one, so two in one process (tests) do not see each other's counts.

The only label is `bot` (a folder name under `flows/`, chosen by the organisers). No label,
and no value, ever carries a chat, a person, a name or a text: a metrics scraper is one more
place a seized server's data could leak from.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bots.storage import SQLStore
    from bots.telegram.runner import BotRunner

log = logging.getLogger(__name__)

__all__ = [
    "Metrics",
    "activate",
    "deactivate",
    "network_error",
    "refused",
    "reload_outcome",
    "throttled",
    "timed_step",
    "update_failed",
    "update_received",
]

# a step is one update taken through the engine and committed: milliseconds, rarely seconds
STEP_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _RunnerCollector(Collector):
    """Values the runners keep anyway, read when Prometheus scrapes (no hook needed)."""

    def __init__(self, runners: Sequence[BotRunner], open_handoffs: dict[str, int]) -> None:
        self.runners = runners
        self.open_handoffs = open_handoffs

    def collect(self) -> Iterable[Metric]:
        processed = CounterMetricFamily(
            "bots_updates_processed", "Updates taken through the engine (or given up)", labels=["bot"]
        )
        sent = CounterMetricFamily("bots_calls_sent", "Bot API calls that Telegram accepted", labels=["bot"])
        outbox = GaugeMetricFamily("bots_outbox_depth", "Calls waiting to be sent to Telegram", labels=["bot"])
        handoffs = GaugeMetricFamily("bots_handoffs_open", "Handoffs to moderators not yet closed", labels=["bot"])
        for runner in self.runners:
            processed.add_metric([runner.bot_id], runner.chats.processed)
            sent.add_metric([runner.bot_id], runner.sender.sent)
            outbox.add_metric([runner.bot_id], sum(len(queue) for queue in runner.sender.queues.values()))
            if runner.bot_id in self.open_handoffs:
                handoffs.add_metric([runner.bot_id], self.open_handoffs[runner.bot_id])
        yield from (processed, sent, outbox, handoffs)


class Metrics:
    """The counters of one `bots run`, in a registry of their own."""

    def __init__(self, runners: Sequence[BotRunner] = (), store: SQLStore | None = None) -> None:
        disable_created_metrics()  # `_created` time stamps per series: noise on a page read by people too
        self.registry = CollectorRegistry()
        self.runners = runners
        self.store = store
        self.bots = [runner.bot_id for runner in runners]
        self._open_handoffs: dict[str, int] = {}
        self.registry.register(_RunnerCollector(runners, self._open_handoffs))
        labels = ["bot"]
        reg = self.registry
        self.received = Counter("bots_updates_received", "Updates recorded (duplicates not counted)", labels, registry=reg)
        self.failed = Counter("bots_updates_failed", "Attempts at an update that raised an error", labels, registry=reg)
        self.step_seconds = Histogram(
            "bots_step_seconds",
            "Time to take one update through the engine and commit it",
            labels,
            buckets=STEP_BUCKETS,
            registry=reg,
        )
        self.throttled = Counter("bots_telegram_429", "429 Too Many Requests answers from Telegram", labels, registry=reg)
        self.throttled_wait = Counter(
            "bots_telegram_429_wait_seconds", "Seconds Telegram asked to wait, summed", labels, registry=reg
        )
        self.refused = Counter("bots_telegram_400", "Calls Telegram refused as bad (400)", labels, registry=reg)
        self.network_errors = Counter(
            "bots_telegram_network_errors", "Bot API calls that failed on the network (retried)", labels, registry=reg
        )
        self.reloads = Counter("bots_reloads", "Changes to the flows that went live", labels, registry=reg)
        self.reload_refusals = Counter(
            "bots_reload_refusals",
            "Changes to the flows refused for errors (the running version stayed)",
            labels,
            registry=reg,
        )
        for bot in self.bots:  # every series exists from the start, at 0, so rate() and alerts work at once
            for counter in (
                self.received,
                self.failed,
                self.throttled,
                self.throttled_wait,
                self.refused,
                self.network_errors,
                self.reloads,
                self.reload_refusals,
            ):
                counter.labels(bot)
            self.step_seconds.labels(bot)

    async def refresh(self) -> None:
        """Read what only the database knows (open handoffs) before a scrape."""
        if self.store is None:
            return
        for bot in self.bots:
            try:
                self._open_handoffs[bot] = len(await self.store.open_handoffs(bot))
            except Exception as err:  # the scrape still answers; /healthz says what is wrong
                log.warning("%s: open handoffs not counted (%s)", bot, type(err).__name__)
                self._open_handoffs.pop(bot, None)


_active: Metrics | None = None


def activate(metrics: Metrics) -> Metrics:
    """Make `metrics` the one the hooks below report to (until `deactivate`)."""
    global _active
    _active = metrics
    return metrics


def deactivate(metrics: Metrics) -> None:
    global _active
    if _active is metrics:
        _active = None


def active() -> Metrics | None:
    return _active


# --- the hooks: one line each in the runner, the sender, the poller and the watcher --------


def update_received(bot: str, count: int) -> None:
    if _active is not None and count:
        _active.received.labels(bot).inc(count)


def update_failed(bot: str) -> None:
    if _active is not None:
        _active.failed.labels(bot).inc()


def throttled(bot: str, wait: float) -> None:
    """A 429: Telegram asked this bot to wait `wait` seconds."""
    if _active is not None:
        _active.throttled.labels(bot).inc()
        _active.throttled_wait.labels(bot).inc(max(wait, 0.0))


def refused(bot: str) -> None:
    if _active is not None:
        _active.refused.labels(bot).inc()


def network_error(bot: str) -> None:
    if _active is not None:
        _active.network_errors.labels(bot).inc()


def reload_outcome(applied: bool) -> None:
    """A change to the project went live (`applied`) or was refused: counted for every bot."""
    if _active is not None:
        counter = _active.reloads if applied else _active.reload_refusals
        for bot in _active.bots:
            counter.labels(bot).inc()


R = TypeVar("R")


def timed_step(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Decorates `BotRunner.process`: its duration goes to `bots_step_seconds{bot}`."""

    @functools.wraps(method)
    async def timed(self: Any, *args: Any, **kwargs: Any) -> R:
        metrics = _active
        if metrics is None:
            return await method(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return await method(self, *args, **kwargs)
        finally:
            metrics.step_seconds.labels(self.bot_id).observe(time.perf_counter() - started)

    return timed


def samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """Parse a `/metrics` page into (name, labels, value): for tests and `bots` tools."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, dict(sample.labels), sample.value
