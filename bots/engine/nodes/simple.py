"""Nodes that do their work at once and move on: message, branch, set, flow, end."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import (
    Call,
    End,
    Go,
    Node,
    Transition,
    node_type,
)


@node_type
class MessageNode(Node):
    """Says `text` (and sends `document`, a file under `knowledge/`), then goes on at once.

    ```yaml
    safety:
      type: message
      text: "We keep no names. You can delete everything with /forget."
      document: documents/if-detained.md
      next: menu
    ```
    """

    type: Literal["message"]
    text: str
    next: str | None = None
    document: str | None = None

    TEXT_KEYS: ClassVar[tuple[str, ...]] = ("text",)

    def enter(self, rt: Runtime) -> Transition:
        rt.say(self.text, "text", document=self.document)
        return Go(self.next)


class Case(BaseModel):
    """One case of a `branch`: when the expression is true, go to `next`."""

    model_config = ConfigDict(extra="forbid")

    when: str
    next: str


@node_type
class BranchNode(Node):
    """Picks the first case whose `when` is true and goes to its `next`; otherwise to `else`.

    With no `else` and no matching case, the flow ends here.

    ```yaml
    where:
      type: branch
      cases:
        - when: "country == 'lt'"
          next: lithuania
        - when: "age is defined and age < 18"
          next: minors
      else: everyone
    ```
    """

    type: Literal["branch"]
    cases: list[Case] = Field(min_length=1)
    else_: str | None = Field(default=None, alias="else")

    def enter(self, rt: Runtime) -> Transition:
        for index, case in enumerate(self.cases):
            if rt.truth(case.when, ("cases", index, "when")):
                return Go(case.next)
        return Go(self.else_)

    def targets(self) -> list[tuple[tuple[str | int, ...], str]]:
        found: list[tuple[tuple[str | int, ...], str]] = [
            (("cases", index, "next"), case.next) for index, case in enumerate(self.cases)
        ]
        if self.else_:
            found.append((("else",), self.else_))
        return found

    def expressions(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("cases", index, "when"), case.when) for index, case in enumerate(self.cases)]


Scalar = str | int | float | bool


@node_type
class SetNode(Node):
    """Sets variables from expressions, in order, then goes on.

    Values are expressions: write text in quotes (`"'lt'"`); numbers and true/false as is.

    ```yaml
    count_cards:
      type: set
      values:
        total: "cards * 2"
        campaign: "'mothers_day'"
      next: confirm
    ```
    """

    type: Literal["set"]
    values: dict[str, Scalar] = Field(min_length=1)
    next: str | None = None

    def enter(self, rt: Runtime) -> Transition:
        for name, expression in self.values.items():
            value: Any = expression
            if isinstance(expression, str):
                value = rt.evaluate(expression, ("values", name))
            rt.store(name, value)
        return Go(self.next)

    def expressions(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("values", name), value) for name, value in self.values.items() if isinstance(value, str)]

    def saves(self) -> list[str]:
        return list(self.values)


@node_type
class FlowNode(Node):
    """Runs another flow; when that flow ends, comes back and goes on at `next`.

    `flow` is a flow of this bot, or of another bot as `<bot>/<flow>`.

    ```yaml
    ask_human:
      type: flow
      flow: human
      next: menu
    ```
    """

    type: Literal["flow"]
    flow: str
    next: str | None = None

    def enter(self, rt: Runtime) -> Transition:
        return Call(self.flow)

    def flow_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("flow",), self.flow)]


@node_type
class EndNode(Node):
    """Says `text` and ends the whole conversation, however deep in subflows.

    `outcome` is a short tag counted in reports.

    ```yaml
    done:
      type: end
      text: "Thank you. Send /start whenever you need us again."
      outcome: card_sent
    ```
    """

    type: Literal["end"]
    text: str
    outcome: str | None = None

    TEXT_KEYS: ClassVar[tuple[str, ...]] = ("text",)

    def enter(self, rt: Runtime) -> Transition:
        rt.say(self.text, "text")
        return End(self.outcome)
