"""Engine outputs as plain text: what the terminal prints and what conversation tests read."""

from __future__ import annotations

from collections.abc import Iterable

from bots.engine.expressions import to_plain
from bots.engine.outputs import (
    Button,
    CloseHandoff,
    ConversationEnded,
    ExitNow,
    ForgetMe,
    OpenHandoff,
    Output,
    Relay,
    Say,
)


def plain_lines(outputs: Iterable[Output], *, numbered: bool = False, notes: bool = True) -> list[str]:
    """The lines a person reads. Buttons are `[1] Label` when `numbered`, else `[Label]`.

    With `notes`, what happens around the words (a handoff opened, the end) is shown in
    parentheses, as the terminal does.
    """
    lines: list[str] = []
    for output in outputs:
        if isinstance(output, Say):
            lines.append(to_plain(output.text))
            if output.document:
                lines.append(f"(document: {output.document})")
            lines += button_lines(output.buttons, numbered=numbered)
        elif notes and isinstance(output, OpenHandoff):
            lines.append("(passed to a person: in the terminal nobody answers; send /end to come back)")
        elif notes and isinstance(output, Relay):
            lines.append("(sent to the moderators)")
        elif notes and isinstance(output, CloseHandoff):
            lines.append("(the conversation with a person is closed)")
        elif notes and isinstance(output, ForgetMe):
            lines.append("(everything about this conversation is deleted)")
        elif notes and isinstance(output, ExitNow):
            lines.append("(quick exit: the chat is deleted and everything about this conversation forgotten)")
        elif notes and isinstance(output, ConversationEnded):
            lines.append("(end of the conversation: send anything to begin again)")
    return lines


def button_lines(buttons: Iterable[Button], *, numbered: bool) -> list[str]:
    if numbered:
        return [f"[{index}] {button.label}" for index, button in enumerate(buttons, start=1)]
    return [f"[{button.label}]" for button in buttons]


def last_buttons(outputs: Iterable[Output]) -> tuple[Button, ...]:
    """The buttons of the last thing said that has buttons: the question now waiting, or
    (when the question waiting is typed, after /help) the buttons under the help."""
    found: tuple[Button, ...] = ()
    for output in outputs:
        if isinstance(output, Say) and output.buttons:
            found = output.buttons
    return found
