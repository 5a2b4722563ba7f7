"""The `end` node: says a text and ends the whole conversation."""

from __future__ import annotations

from typing import ClassVar, Literal

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import End, Node, Transition, node_type


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
