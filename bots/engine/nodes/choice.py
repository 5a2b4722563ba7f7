"""The `choice` node: a question answered with buttons."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import WAIT, Go, Node, SubflowCall, Transition, node_type
from bots.engine.outputs import Button, Chosen

TICK = "✅ "


class Option(BaseModel):
    """One button of a `choice`: its `label`, the `value` saved, and where it leads."""

    model_config = ConfigDict(extra="forbid")

    label: str
    value: str | int | float | bool | None = None
    next: str | None = None
    flow: str | None = None

    @property
    def saved(self) -> str | int | float | bool:
        return self.label if self.value is None else self.value


@node_type
class ChoiceNode(Node):
    """Asks `text` with a button per option and waits for a press.

    The chosen option's `value` (its label if it has none) is saved in `save`. The option's
    `next` says where to go; options without one go to the node's `next`. An option with
    `flow` runs that flow, then the conversation goes on at the node's `next`.

    With `multiple: true` the person ticks any number of options and presses Done;
    `save` receives the list of ticked values and the conversation goes on at `next`.

    ```yaml
    need:
      type: choice
      text: "What kind of help do you need?"
      save: help
      multiple: true
      options:
        - {label: "Legal", value: legal}
        - {label: "Psychological", value: psychological}
      next: where
    ```
    """

    type: Literal["choice"]
    text: str
    options: list[Option] = Field(min_length=1)
    save: str | None = None
    next: str | None = None
    multiple: bool = False

    TEXT_KEYS: ClassVar[tuple[str, ...]] = ("text",)
    WAITS: ClassVar[bool] = True

    def next_target(self) -> str | None:
        return self.next

    def enter(self, rt: Runtime) -> Transition:
        rt.begin_question()
        rt.state.scratch["ticked"] = []
        self.prompt(rt)
        return WAIT

    def prompt(self, rt: Runtime, *, replace: bool = False) -> None:
        ticked = set(rt.state.scratch.get("ticked", []))
        buttons = []
        for index, option in enumerate(self.options):
            label = rt.label(option.label, ("options", index, "label"))
            if self.multiple and index in ticked:
                label = TICK + label
            buttons.append(Button(label, rt.button(f"o{index}")))
        if self.multiple:
            buttons.append(Button(rt.builtin("button_done"), rt.button("d")))
        rt.ask(self.text, buttons, replace=replace)

    def on_press(self, rt: Runtime, code: str) -> Transition:
        if code == "d" and self.multiple:
            return self._done(rt)
        if not code.startswith("o") or not code[1:].isdigit() or int(code[1:]) >= len(self.options):
            return super().on_press(rt, code)
        index = int(code[1:])
        option = self.options[index]
        if self.multiple:
            ticked: list[int] = rt.state.scratch.setdefault("ticked", [])
            if index in ticked:
                ticked.remove(index)
            else:
                ticked.append(index)
            self.prompt(rt, replace=True)
            return WAIT
        rt.emit(Chosen(rt.label(option.label, ("options", index, "label"))))
        if self.save:
            rt.store(self.save, option.saved)
        if option.flow:
            return SubflowCall(option.flow)
        return Go(option.next or self.next)

    def _done(self, rt: Runtime) -> Transition:
        ticked = sorted(rt.state.scratch.get("ticked", []))
        if not ticked:
            rt.hint("hint_tick_first")
            self.prompt(rt)
            return WAIT
        labels = [rt.label(self.options[i].label, ("options", i, "label")) for i in ticked]
        rt.emit(Chosen(", ".join(labels)))
        if self.save:
            rt.store(self.save, [self.options[i].saved for i in ticked])
        return Go(self.next)

    def on_text(self, rt: Runtime, text: str) -> Transition:
        wanted = text.strip().casefold().removeprefix(TICK.strip().casefold()).strip()
        for index, option in enumerate(self.options):
            if rt.label(option.label, ("options", index, "label")).casefold() == wanted:
                return self.on_press(rt, f"o{index}")
        if self.multiple and wanted == rt.builtin("button_done").casefold():
            return self._done(rt)
        return super().on_text(rt, text)

    def targets(self) -> list[tuple[tuple[str | int, ...], str]]:
        found = super().targets()
        found += [(("options", i, "next"), o.next) for i, o in enumerate(self.options) if o.next]
        return found

    def flow_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("options", i, "flow"), o.flow) for i, o in enumerate(self.options) if o.flow]

    def texts(self) -> list[tuple[tuple[str | int, ...], str]]:
        return super().texts() + [(("options", i, "label"), o.label) for i, o in enumerate(self.options)]

    def saves(self) -> list[str]:
        return [self.save] if self.save else []
