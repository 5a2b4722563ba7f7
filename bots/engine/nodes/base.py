"""What every node type shares, and the table of node types by their YAML `type`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from bots.engine.interfaces import Runtime


@dataclass(frozen=True)
class Go:
    """Continue at `target` (`node`, `flow:node`); `None` ends the current flow."""

    target: str | None


@dataclass(frozen=True)
class Call:
    """Run flow `flow`, then come back to this node's `after_return`."""

    flow: str


@dataclass(frozen=True)
class End:
    """End the whole conversation, however deep in subflows; `outcome` is counted in reports."""

    outcome: str | None = None


class _Wait:
    def __repr__(self) -> str:
        return "WAIT"


WAIT = _Wait()

Transition = Go | Call | End | _Wait


class Node(BaseModel):
    """Base of every node type. Subclasses declare their YAML keys as fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)

    type: str
    _id: str = PrivateAttr(default="")

    #: keys holding translatable texts (gettext message ids), in the order they appear
    TEXT_KEYS: ClassVar[tuple[str, ...]] = ()
    #: keys holding templates rendered for moderators, not translated
    TEMPLATE_KEYS: ClassVar[tuple[str, ...]] = ()
    #: whether the node waits for the person (a question)
    WAITS: ClassVar[bool] = False

    @property
    def id(self) -> str:
        return self._id

    # --- behaviour ---------------------------------------------------------------------

    def enter(self, rt: Runtime) -> Transition:  # pragma: no cover - every type overrides
        raise NotImplementedError

    def on_text(self, rt: Runtime, text: str) -> Transition:
        """A typed reply while this node waits. Default: the question again."""
        rt.hint("hint_use_buttons")
        self.prompt(rt)
        return WAIT

    def on_press(self, rt: Runtime, code: str) -> Transition:
        """A press of one of this node's buttons (`code` is ours, already verified)."""
        self.prompt(rt)
        return WAIT

    def prompt(self, rt: Runtime, *, replace: bool = False) -> None:
        """Show this node's question again (after /help, a hint, an expired button)."""

    def after_return(self, rt: Runtime) -> Transition:
        """A subflow this node called has finished."""
        return Go(getattr(self, "next", None))

    # --- what the loader checks ----------------------------------------------------------

    def targets(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, target) for every `next`-like reference to a node."""
        target = getattr(self, "next", None)
        return [(("next",), target)] if target else []

    def flow_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, flow id) for every reference to a flow."""
        return []

    def expressions(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, expression source) for every expression."""
        return []

    def texts(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, text) for every translatable text."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        for key in self.TEXT_KEYS:
            value = getattr(self, key, None)
            if value:
                found.append(((key,), value))
        return found

    def templates(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every template: the texts plus moderator-only templates."""
        found = self.texts()
        for key in self.TEMPLATE_KEYS:
            value = getattr(self, key, None)
            if value:
                found.append(((key,), value))
        return found

    def saves(self) -> list[str]:
        """Variables this node sets."""
        return []


NODE_TYPES: dict[str, type[Node]] = {}


def node_type(cls: type[Node]) -> type[Node]:
    """Register a node class under the `type` literal it declares."""
    annotation: Any = cls.model_fields["type"].annotation
    (name,) = annotation.__args__
    NODE_TYPES[name] = cls
    return cls
