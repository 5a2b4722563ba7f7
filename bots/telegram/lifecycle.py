"""One pair of verbs for everything that runs: `start()` and `stop()`, and `async with`
for both, as python-telegram-bot's `Application` does."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Service:
    """Something that runs between `start()` and `stop()`. `async with service:` starts it
    and stops it however the block ends; `stop()` may be called on what never started."""

    async def start(self) -> None:
        """Begin: open what it needs (connections, the server, Telegram's getMe)."""

    async def stop(self) -> None:
        """Finish what is in hand and let go of what `start` opened."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()
