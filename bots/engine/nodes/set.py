"""The `set` node: sets variables from expressions, then goes on."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import Go, Node, Transition, node_type

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

    def next_target(self) -> str | None:
        return self.next

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
