"""The `message` node: says a text (and sends a document), then goes on at once."""

from __future__ import annotations

from typing import ClassVar, Literal

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import Go, Node, Transition, node_type


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

    def next_target(self) -> str | None:
        return self.next

    def enter(self, rt: Runtime) -> Transition:
        rt.say(self.text, "text", document=self.document)
        return Go(self.next)

    def document_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("document",), self.document)] if self.document else []
