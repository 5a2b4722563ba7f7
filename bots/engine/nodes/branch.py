"""The `branch` node: goes on where the first true condition says."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import Go, Node, Transition, node_type


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
