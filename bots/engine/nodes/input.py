"""The `input` node: a question answered by typing."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any, ClassVar, Literal

from pydantic import Field

from bots.engine.inputs import InvalidAnswer, check_answer
from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import WAIT, Go, Node, Transition, node_type

InputKind = Literal["text", "number", "date", "phone", "email"]


@functools.lru_cache(maxsize=512)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@node_type
class InputNode(Node):
    """Asks `text` and waits for a typed reply, checks it, and saves it in `save`.

    `kind` is `text` (the default), `number`, `date`, `phone` or `email`. Numbers may have
    `min` and `max`; dates too (a date, `today`, `today+7`, `today-30`). Texts may have
    `max_length` and a `pattern` (a regular expression the whole reply must match).
    A reply that fails gets `error` (or a clear built-in explanation) and the question
    again. A date is saved as `YYYY-MM-DD`. Mark answers that could harm the person if
    seen by others `sensitive: true`: they are never shown to moderators on a handoff card.

    ```yaml
    cards:
      type: input
      kind: number
      text: "How many cards would you like to send?"
      min: 1
      max: 10
      error: "Please send a number from 1 to 10."
      save: cards
      next: when
    ```
    """

    type: Literal["input"]
    text: str
    save: str
    next: str | None = None
    kind: InputKind = "text"
    min: int | float | dt.date | str | None = None
    max: int | float | dt.date | str | None = None
    max_length: int | None = Field(default=None, ge=1, le=4096)
    pattern: str | None = None
    error: str | None = None
    sensitive: bool = False

    TEXT_KEYS: ClassVar[tuple[str, ...]] = ("text", "error")
    WAITS: ClassVar[bool] = True

    def next_target(self) -> str | None:
        return self.next

    def enter(self, rt: Runtime) -> Transition:
        rt.begin_question()
        self.prompt(rt)
        return WAIT

    def prompt(self, rt: Runtime, *, replace: bool = False) -> None:
        rt.ask(self.text, [])

    def on_text(self, rt: Runtime, text: str) -> Transition:
        try:
            value: Any = check_answer(
                text,
                kind=self.kind,
                today=rt.today,
                minimum=self.min,
                maximum=self.max,
                max_length=self.max_length,
                pattern=compiled(self.pattern) if self.pattern else None,
            )
        except InvalidAnswer as invalid:
            return self._reject(rt, invalid)
        rt.store(self.save, value, sensitive=self.sensitive)
        return Go(self.next)

    def on_press(self, rt: Runtime, code: str) -> Transition:
        return self.on_unsupported(rt)

    def on_unsupported(self, rt: Runtime) -> Transition:
        return self._reject(rt, InvalidAnswer("error_not_text"))

    def _reject(self, rt: Runtime, invalid: InvalidAnswer) -> Transition:
        own_error = self.error and invalid.reason not in ("error_empty", "error_too_long", "error_not_text")
        if own_error:
            rt.say(self.error or "", "error")
        else:
            rt.hint(invalid.reason, **invalid.params)
        self.prompt(rt)
        return WAIT

    def saves(self) -> list[str]:
        return [self.save]
