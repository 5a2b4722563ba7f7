"""The `handoff` node: a person in the moderators' chat takes over."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from bots.engine.events import HandoffEnding
from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import WAIT, Node, Transition, node_type
from bots.engine.outputs import OpenHandoff, Relay


@node_type
class HandoffNode(Node):
    """Says `text` to the person and passes the conversation to the moderators' chat.

    The flow is silent until a moderator closes the conversation (or the person sends
    `/end`); then it goes on at `next`. `topic` is a template naming the conversation for
    the moderators (never put names or contacts in it). Answers marked `sensitive` are
    never shown to moderators. Outside the bot's `hours` the person is also told when to
    expect an answer.

    ```yaml
    human:
      type: handoff
      text: "A person from our team will answer here. You can write to them now."
      topic: "Mara: {{ situation }}"
      next: menu
    ```

    `share` (an addition) lists the answers the card carries, and nothing else: what the
    person chose to give for this. A sensitive answer is shown only when named there.

    With `accept` and `decline` (an addition of this project) the handoff is an
    application: the moderators' card gets Accept and Decline buttons, and the flow goes
    on at the node they name, which tells the person the result in their language.

    ```yaml
    apply:
      type: handoff
      text: "Your application has gone to the coordinators."
      topic: "Volunteer: {{ district }}"
      accept: welcome
      decline: not_now
      next: menu
    ```
    """

    type: Literal["handoff"]
    text: str
    topic: str | None = None
    next: str | None = None
    accept: str | None = None
    decline: str | None = None
    #: the variables the moderators' card shows, and only those (an answer marked sensitive
    #: only if it is named here: the person gave it for them); without it, every answer not
    #: marked sensitive
    share: list[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]] | None = None

    TEXT_KEYS: ClassVar[tuple[str, ...]] = ("text",)
    TEMPLATE_KEYS: ClassVar[tuple[str, ...]] = ("topic",)
    WAITS: ClassVar[bool] = True

    def next_target(self) -> str | None:
        return self.next

    def resume_target(self, how: HandoffEnding) -> str | None:
        """An application goes on at `accept` or `decline` (which say the result); else `next`."""
        if how == "accepted":
            return self.accept or self.next
        if how == "declined":
            return self.decline or self.next
        return self.next

    def targets(self) -> list[tuple[tuple[str | int, ...], str]]:
        found = super().targets()
        if self.accept:
            found.append((("accept",), self.accept))
        if self.decline:
            found.append((("decline",), self.decline))
        return found

    @property
    def is_application(self) -> bool:
        return bool(self.accept or self.decline)

    def enter(self, rt: Runtime) -> Transition:
        rt.say(self.text, "text")
        hours = rt.hours
        if hours is not None and not hours.is_open(rt.now):
            lang = rt.state.lang
            rt.hint("handoff_after_hours", hours=hours.describe(lang), when=hours.describe_opening(rt.now, lang))
        topic = rt.render_plain(self.topic, ("topic",)) if self.topic else rt.bot_name
        rt.emit(
            OpenHandoff(
                flow=rt.flow_id,
                node=self.id,
                topic=topic,
                answers=self._answers(rt),
                application=self.is_application,
            )
        )
        rt.state.status = "handoff"
        return WAIT

    def _answers(self, rt: Runtime) -> dict[str, object]:
        if self.share is None:
            return rt.shareable_answers()
        return {name: rt.state.vars[name] for name in self.share if rt.state.vars.get(name) is not None}

    def on_text(self, rt: Runtime, text: str) -> Transition:
        rt.emit(Relay(text))
        return WAIT

    def on_press(self, rt: Runtime, code: str) -> Transition:
        return WAIT
