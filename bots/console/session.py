"""One conversation driven through the engine in memory: for `bots test` and the tests."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from bots.console.transcript import last_buttons
from bots.engine import Engine, StepContext
from bots.engine import events as ev
from bots.engine.outputs import Button, ExitNow, Metric, Output, Problem, Say
from bots.engine.state import ConversationState

log = logging.getLogger(__name__)


class ButtonNotFound(LookupError):
    def __init__(self, label: str, buttons: tuple[Button, ...]) -> None:
        shown = ", ".join(f"'{b.label}'" for b in buttons) or "none"
        super().__init__(f"no button '{label}' (the buttons are: {shown})")
        self.label = label
        self.buttons = buttons


def find_button(buttons: tuple[Button, ...], label: str) -> Button:
    """The button whose label is `label`: exactly, else ignoring case and a tick mark."""
    for button in buttons:
        if button.label == label:
            return button
    wanted = label.strip().casefold()
    for button in buttons:
        if button.label.removeprefix("✅ ").strip().casefold() == wanted:
            return button
    raise ButtonNotFound(label, buttons)


class Conversation:
    """A conversation kept in memory. Each call returns that step's outputs."""

    def __init__(
        self,
        engine: Engine,
        *,
        lang: str | None = None,
        first_name: str = "Alex",
        clock: Callable[[], dt.datetime] | None = None,
        on_button: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.engine = engine
        #: told (flow, node, button code) when a button of the question waiting is pressed or
        #: its label typed (`bots test --coverage` listens; nothing does otherwise)
        self.on_button = on_button
        self.lang = lang
        self.first_name = first_name
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.state: ConversationState | None = None
        self.buttons: tuple[Button, ...] = ()
        self.offered: tuple[Button, ...] = ()
        if lang is not None:
            self.state = ConversationState(lang=engine.language_for(lang), status="ended")

    def handle(self, event: ev.Event) -> list[Output]:
        context = StepContext(now=self.clock(), first_name=self.first_name, language=self.lang)
        result = self.engine.step(self.state, event, context)
        self.state = result.state
        for output in result.outputs:
            if isinstance(output, Problem):  # the engine logs nothing: `bots test` and the studio say it here
                log.error("flow problem at %s: %s", output.where, output.detail)
        if any(isinstance(o, ExitNow) for o in result.outputs):  # as the adapters do: nothing kept, one line left
            result.outputs.append(Say(self.engine.exit_line(result.state.lang)))
            self.state = ConversationState(lang=result.state.lang, status="ended") if self.lang is not None else None
        self.buttons = last_buttons(result.outputs)
        #: every button shown in the step, the waiting question's first (a person may press
        #: any of them: the ones under /help stay above the question asked again)
        self.offered = self.buttons + tuple(b for o in result.outputs if isinstance(o, Say) for b in o.buttons)
        #: the report counters of the last step (kept apart: they are not something said)
        self.metrics = [o for o in result.outputs if isinstance(o, Metric)]
        return [o for o in result.outputs if not isinstance(o, Metric)]

    def send(self, text: str) -> list[Output]:
        if self.on_button is not None and self.buttons:
            try:
                self._pressing(find_button(self.buttons, text))
            except ButtonNotFound:
                pass
        return self.handle(self.engine.event_for_text(text))

    def press(self, label: str) -> list[Output]:
        try:
            button = find_button(self.buttons, label)
        except ButtonNotFound:
            try:
                button = find_button(self.offered, label)
            except ButtonNotFound:
                raise ButtonNotFound(label, self.buttons) from None
        if self.on_button is not None:
            self._pressing(button)
        return self.handle(ev.Press(button.data))

    def _pressing(self, button: Button) -> None:
        """Tell `on_button` about a press the engine will take (not an expired button)."""
        state = self.state
        frame = state.current if state is not None else None
        step, _, code = button.data.partition(":")
        if self.on_button is not None and state is not None and frame is not None and state.status == "waiting":
            if code and step == str(state.step):
                self.on_button(frame.flow, frame.node, code)
