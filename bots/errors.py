"""`BotsError`: an error a command reports in one line, with the exit status it gives.

`bots.cli.main` catches it wherever a command raises it: `bots: <message>` on stderr, and
`status` as the exit status (1 unless the class or the error says otherwise). The project's
user-facing errors derive from it and keep their own bases too; a class sets its status on
its own line, `class GraphError(BotsError, status=2)`, and one error can set its own,
`BotsError("...", status=2)`.

The message is shown as it is: it must say what is wrong and what to do, and never quote a
message's text, a token or a raw Telegram id.
"""

from __future__ import annotations

from typing import Any


class BotsError(Exception):
    """What a command reports in one line (`bots: <message>`), and its exit status."""

    #: the exit status of the command that stops on this error
    status: int = 1

    def __init_subclass__(cls, *, status: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status

    def __init__(self, *args: object, status: int | None = None) -> None:
        super().__init__(*args)
        if status is not None:
            self.status = status
