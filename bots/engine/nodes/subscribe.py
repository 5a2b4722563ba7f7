"""The `subscribe` node (an addition of this project): the person opts in to the bot's news."""

from __future__ import annotations

from typing import ClassVar, Literal

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import Go, Node, Transition, node_type
from bots.engine.outputs import Metric, Subscription


@node_type
class SubscribeNode(Node):
    """Subscribes the person to the bot's news (`bots broadcast`), says `text`, and goes on at
    `next`. Put it behind an option, so that people choose it; `/unsubscribe` stops the news
    (and `/subscribe` starts it anywhere). With `unsubscribe: true` it stops the news instead.

    Reach it from an option such as `{label: "Yes, send me news", next: news}`:

    ```yaml
    news:
      type: subscribe
      text: "Done: you will get our news here. Send /unsubscribe to stop it."
      next: menu
    ```
    """

    type: Literal["subscribe"]
    text: str
    next: str | None = None
    unsubscribe: bool = False

    TEXT_KEYS: ClassVar[tuple[str, ...]] = ("text",)

    def next_target(self) -> str | None:
        return self.next

    def enter(self, rt: Runtime) -> Transition:
        rt.emit(Subscription(not self.unsubscribe))
        rt.emit(Metric("unsubscribed" if self.unsubscribe else "subscribed"))
        rt.say(self.text, "text")
        return Go(self.next)
