"""The flood rule, on its own: what the Telegram edge's guard (`bots.telegram.flood`, one
worker's memory) and the database's (several webhook workers: `sql_workers`, and PostgreSQL's
`bots_flood`) both apply to a chat's recent update times. See `bots.telegram.flood` for the
rule in words."""

from __future__ import annotations

import enum

__all__ = ["Verdict", "decide"]


class Verdict(enum.Enum):
    """What to do with one incoming update."""

    ALLOW = "allow"  # handle it
    WARN = "warn"  # the first update over the limit: drop it and tell the person once to slow down
    DROP = "drop"  # still paused: drop it silently


def decide(times: list[float], until: float, now: float, limit: int, window: float, pause: float) -> tuple[Verdict, float]:
    """The rule, for one update of a chat at `now`: its verdict and the chat's new pause end.
    `times` (the chat's latest update times, oldest first) is updated in place. Shared by the
    guard here and by the one several workers keep in their database."""
    if now < until:
        return Verdict.DROP, until  # not recorded: dropped updates neither extend the pause nor count later
    times.append(now)
    if len(times) > limit:
        if now - times[0] < window:  # limit + 1 updates inside the window
            times.clear()  # after the pause the chat starts afresh
            return Verdict.WARN, now + pause
        del times[0]  # keep at most `limit` between checks
    return Verdict.ALLOW, until
