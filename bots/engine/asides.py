"""The person's own safety controls under /help: the safety flow, vanishing messages, the
quick exit.

People in Belarus have their phones checked at the border, at detention and in home
searches: a chat with a help bot is evidence. So /help offers, besides /forget, a way to
make the chat delete itself as it goes (1 hour, 1 day or never; the bot's `vanish_after`
until they choose), an Exit that clears the chat at once without asking, and the bot's
safety flow. These are side matters: the question the person was at is asked again after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from babel.dates import format_timedelta

from bots.engine import events as ev
from bots.engine.commands import Then
from bots.engine.nodes.base import SubflowCall
from bots.engine.outputs import Button, Chosen, ExitNow, Output, Say, VanishChosen
from bots.engine.state import ConversationState, Frame

if TYPE_CHECKING:
    from bots.engine.model import BotConfig
    from bots.engine.runtime import StepRuntime

SAFETY_BUTTON = "S:"  # button data: run the bot's safety flow
VANISH_BUTTON = "V:"  # V:ask (from /help), V:<seconds> (a choice; 0: never)
EXIT_BUTTON = "X:"  # the quick exit
CHOICES = (("vanish_hour", 3600), ("vanish_day", 86400), ("vanish_never", 0))


def vanish_seconds(state: ConversationState | None, config: BotConfig) -> int:
    """How old this person's chat's messages may get, in seconds (0: they stay): their own
    choice, else the bot's `vanish_after`."""
    if state is not None and state.vanish is not None:
        return state.vanish
    return config.vanish_seconds


def duration_text(seconds: int, lang: str) -> str:
    """`2 hours`, `90 minutes`, `1 day` in the person's language, in the unit that is exact."""
    unit: Literal["day", "hour", "minute"] = "day" if seconds % 86400 == 0 else "hour" if seconds % 3600 == 0 else "minute"
    try:
        return format_timedelta(
            dt.timedelta(seconds=seconds), threshold=10**6, granularity=unit, format="long", locale=lang.replace("-", "_")
        )
    except (ValueError, LookupError):
        return format_timedelta(dt.timedelta(seconds=seconds), threshold=10**6, granularity=unit, format="long", locale="en")


def help_buttons(rt: StepRuntime) -> tuple[Button, ...]:
    """The buttons under /help: the safety flow (not while a person is talking with the
    team), vanishing messages, /forget, and the quick exit, nearest the thumb."""
    buttons = []
    if rt.bot.config.safety and rt.state.status != "handoff":
        buttons.append(Button(rt.builtin("button_safety"), SAFETY_BUTTON))
    buttons.append(Button(rt.builtin("button_vanish"), f"{VANISH_BUTTON}ask"))
    buttons.append(Button(rt.builtin("button_forget"), "F:ask"))
    buttons.append(Button(rt.builtin("button_exit"), EXIT_BUTTON))
    return tuple(buttons)


def handle(rt: StepRuntime, event: ev.Event) -> Then | None:
    """Take the event if it is one of these side matters and say what the engine does next;
    None leaves the event to the engine."""
    if isinstance(event, ev.QuickExit) or (isinstance(event, ev.Press) and event.data == EXIT_BUTTON):
        rt.emit(ExitNow())  # no question asked: the person may have seconds
        return "done"
    if not isinstance(event, ev.Press):
        return None
    if event.data == SAFETY_BUTTON:
        return _safety(rt)
    if event.data == f"{VANISH_BUTTON}ask":
        _ask_vanish(rt)
        return "done"
    if event.data.startswith(VANISH_BUTTON):
        return _set_vanish(rt, event.data.removeprefix(VANISH_BUTTON))
    return None


def _ask_vanish(rt: StepRuntime) -> None:
    seconds = vanish_seconds(rt.state, rt.bot.config)
    current = (
        rt.builtin("vanish_now_after", duration=duration_text(seconds, rt.state.lang))
        if seconds
        else rt.builtin("vanish_now_never")
    )
    buttons = tuple(Button(rt.builtin(key), f"{VANISH_BUTTON}{value}") for key, value in CHOICES)
    rt.emit(Say(rt.builtin("vanish_ask", current=current), buttons))


def _set_vanish(rt: StepRuntime, value: str) -> Then:
    choice = next(((key, seconds) for key, seconds in CHOICES if str(seconds) == value), None)
    if choice is None:  # forged or from another version: nothing changes
        rt.hint("expired")
        return "reprompt"
    key, seconds = choice
    rt.state.vanish = seconds
    rt.emit(Chosen(rt.builtin(key)))
    rt.emit(VanishChosen(seconds))
    if seconds:
        rt.hint("vanish_set", duration=duration_text(seconds, rt.state.lang))
    else:
        rt.hint("vanish_set_never")
    return "carry_on"


def _safety(rt: StepRuntime) -> Then:
    """Run the bot's safety flow; when it ends, the question the person was at comes again."""
    state = rt.state
    safety = rt.bot.config.safety
    if not safety or state.status == "handoff":
        rt.hint("expired")
        return "reprompt"
    if state.status != "ended" and not rt.position_exists():  # the flows changed under it
        state.stack = []
        state.status = "ended"
    if state.status == "ended":
        state.stack = []
    elif state.current is not None:
        state.stack[-1] = Frame(flow=state.current.flow, node=state.current.node, aside=True)
    return SubflowCall(safety)


def announce_vanishing(rt: StepRuntime, outputs: list[Output]) -> None:
    """A new conversation of a bot whose messages vanish: its first message says so, in a line."""
    seconds = rt.bot.config.vanish_seconds
    if not seconds:
        return
    for index, output in enumerate(outputs):
        if isinstance(output, Say) and output.text.strip():
            line = rt.builtin("vanish_notice", duration=duration_text(seconds, rt.state.lang))
            outputs[index] = replace(output, text=f"{output.text}\n\n<i>{line}</i>")
            return
