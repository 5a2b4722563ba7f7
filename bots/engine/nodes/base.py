"""What every node type shares, and the table of node types by their YAML `type`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from bots.engine.events import HandoffEnding
from bots.engine.interfaces import Runtime


@dataclass(frozen=True)
class Go:
    """Continue at `target` (`node`, `flow:node`); `None` ends the current flow."""

    target: str | None


@dataclass(frozen=True)
class SubflowCall:
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

Transition = Go | SubflowCall | End | _Wait


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
        """The node's id in its flow (its key under `nodes:`), given by the loader."""
        return self._id

    def set_id(self, node_id: str) -> None:
        """Name the node by its key under `nodes:` (the loader does, once it is validated)."""
        self._id = node_id

    def next_target(self) -> str | None:
        """The node's `next`: where the flow goes on once this node is done (None: the flow
        ends there). Types with a `next` key return it; the others have none."""
        return None

    def resume_target(self, how: HandoffEnding) -> str | None:
        """Where the flow goes on when a handoff at this node ended `how`: its `next`."""
        return self.next_target()

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

    def on_unsupported(self, rt: Runtime) -> Transition:
        """A sticker, a photo, a voice message while this node waits. Default: use the buttons."""
        rt.hint("hint_use_buttons")
        self.prompt(rt)
        return WAIT

    def prompt(self, rt: Runtime, *, replace: bool = False) -> None:
        """Show this node's question again (after /help, a hint, an expired button)."""

    def after_return(self, rt: Runtime) -> Transition:
        """A subflow this node called has finished."""
        return Go(self.next_target())

    # --- what the loader checks ----------------------------------------------------------

    def targets(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, target) for every `next`-like reference to a node."""
        target = self.next_target()
        return [(("next",), target)] if target else []

    def flow_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, flow id) for every reference to a flow."""
        return []

    def catalog_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, catalog name) for every catalog the node reads."""
        return []

    def document_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, file under `knowledge/`) for every document the node sends."""
        return []

    def expressions(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, expression source) for every expression."""
        return []

    def texts(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path of the key, text) for every translatable text."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        for key in self.TEXT_KEYS:
            value = getattr(self, key)  # a field: checked when the type is registered
            if value:
                found.append(((key,), value))
        return found

    def templates(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every template: the texts plus moderator-only templates."""
        found = self.texts()
        for key in self.TEMPLATE_KEYS:
            value = getattr(self, key)
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
    undeclared = [key for key in (*cls.TEXT_KEYS, *cls.TEMPLATE_KEYS) if key not in cls.model_fields]
    if undeclared:
        raise TypeError(f"{cls.__name__}: TEXT_KEYS / TEMPLATE_KEYS name keys it does not have: {undeclared}")
    if "next" in cls.model_fields and cls.next_target is Node.next_target:
        raise TypeError(f"{cls.__name__} has a `next` key: its next_target() must return it")
    NODE_TYPES[name] = cls
    return cls
