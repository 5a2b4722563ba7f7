"""`bots broadcast BOT FILE`: news to a bot's subscribers, at Telegram's pace, never twice.

A broadcast is named by its bot and the SHA-256 of the news file. When it first starts, a
`pending` delivery is recorded for every subscriber of that moment, in one transaction: that
is who it is for. Whoever subscribes later gets the next broadcast, not this one, even if
this one is started again after a crash; whoever unsubscribes (or is forgotten) before their
turn is skipped.

- `bots.broadcast.news`: reading and checking the news file (`load_news`, `News`);
- `bots.broadcast.sending`: the resumable sender (`Broadcast`, `Tally`) and how it keeps
  to the pace and never sends twice;
- `bots.broadcast.progress`: the progress bar on stderr;
- `bots.broadcast.command`: the command line (`command`, `dry_run`, `send`).
"""

from bots.broadcast.command import command, dry_run, send
from bots.broadcast.news import News, load_news
from bots.broadcast.progress import Progress
from bots.broadcast.sending import (
    BATCH,
    CONCURRENCY,
    CONTENT_ERRORS,
    HEARTBEAT,
    MAX_BACKOFF,
    PER_SECOND,
    STALE,
    Broadcast,
    BroadcastError,
    NewsStore,
    Plan,
    Tally,
    _never_sent,
    _owner_alive,
)

__all__ = [
    "BATCH",
    "CONCURRENCY",
    "CONTENT_ERRORS",
    "HEARTBEAT",
    "MAX_BACKOFF",
    "PER_SECOND",
    "STALE",
    "Broadcast",
    "BroadcastError",
    "News",
    "NewsStore",
    "Plan",
    "Progress",
    "Tally",
    "_never_sent",
    "_owner_alive",
    "command",
    "dry_run",
    "load_news",
    "send",
]
