"""How `bots run` runs: its settings, and the error that stops it at the start."""

from __future__ import annotations

from dataclasses import dataclass, field

from bots.errors import BotsError
from bots.telegram.admin import AdminAddress
from bots.telegram.refused import recheck_every

DEFAULT_API_URL = "https://api.telegram.org/bot"


class StartupError(BotsError):
    """A bot cannot start; the message is one line naming the bot and what to fix."""


@dataclass
class RunSettings:
    api_url: str | None = None
    webhook_url: str | None = None
    listen: str = "127.0.0.1"
    port: int = 8443
    max_connections: int = 40  # Telegram's default: webhook requests it may have open at once
    poll_timeout: int = 50
    #: False only against a local Bot API server that has no limits (benchmarks)
    pace: bool = True
    #: watch flows/, knowledge/ and locales/ and apply saved changes (live reload)
    reload: bool = True
    admin: AdminAddress | None = None  # --admin: /healthz and /metrics
    tokens: dict[str, str] = field(default_factory=dict)
    token_envs: dict[str, str] = field(default_factory=dict)
    #: seconds between two tries of a bot's refused token (see bots.telegram.refused)
    recheck_every: float = field(default_factory=recheck_every)
