"""What a conversation with the engine said, as the tests compare it."""

from __future__ import annotations

from collections.abc import Iterable

from bots.console.transcript import plain_lines
from bots.engine.outputs import Output


def said(outputs: Iterable[Output]) -> str:
    """The lines a person reads (buttons as `[Label]`), without the terminal's notes."""
    return "\n".join(plain_lines(outputs, notes=False))
