"""The `flow` node: runs another flow, then goes on."""

from __future__ import annotations

from typing import Literal

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import Node, SubflowCall, Transition, node_type


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

    def next_target(self) -> str | None:
        return self.next

    def enter(self, rt: Runtime) -> Transition:
        return SubflowCall(self.flow)

    def flow_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("flow",), self.flow)]
