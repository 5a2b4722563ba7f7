"""A conversation's state: everything the engine needs to take the next step.

It is plain data (JSON in, JSON out) so that any store can keep it. It holds no name, no
username and no Telegram id: those come with each event from the adapter.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["active", "waiting", "handoff", "ended"]

HISTORY_LIMIT = 20

_SCALARS = frozenset((str, int, float, bool, type(None)))
_HISTORY = {"history"}


def plain_copy(value: Any) -> Any:
    """An independent copy of JSON data (dicts, lists, scalars); anything else is deep-copied."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: v if type(v) in _SCALARS else plain_copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _SCALARS else plain_copy(v) for v in value]
    return copy.deepcopy(value)


class Frame(BaseModel):
    """A position: the qualified flow id (`bot/flow`) and a node id in it."""

    model_config = ConfigDict(frozen=True)

    flow: str
    node: str
    #: a side flow (the safety flow from /help) was called from here: when it returns, this
    #: node's question is asked again instead of going on at its `next`
    aside: bool = False


class Snapshot(BaseModel):
    """Where a question was asked and what was known then; `/back` returns to it.

    Never changed once made (replaced instead), so copies of a state can share them.
    """

    model_config = ConfigDict(frozen=True)

    stack: list[Frame]
    vars: dict[str, Any]


class ConversationState(BaseModel):
    """The state of one conversation with one bot.

    `stack[-1]` is the current node; the frames below it are the nodes that called a
    subflow and will go on at their own `next` when it returns.
    """

    lang: str
    stack: list[Frame] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    status: Status = "active"
    step: int = 0
    scratch: dict[str, Any] = Field(default_factory=dict)
    history: list[Snapshot] = Field(default_factory=list)
    #: sensitive variable -> the flow that asked it; wiped when that flow ends
    sensitive: dict[str, str] = Field(default_factory=dict)
    #: the last day (YYYY-MM-DD) this person was counted among the day's people (reports)
    counted: str | None = None
    #: the person's own choice under /help: their chat's messages vanish after this many
    #: seconds (0: never); None follows the bot's `vanish_after`
    vanish: int | None = None

    @property
    def current(self) -> Frame | None:
        return self.stack[-1] if self.stack else None

    def copy_deep(self) -> ConversationState:
        """An independent copy. Frames and snapshots are immutable, so they are shared; the
        variables are JSON data, copied without `copy.deepcopy`'s bookkeeping."""
        copied = self.__copy__()  # pydantic's shallow copy: its own __dict__ and fields set
        fields = copied.__dict__
        fields["stack"] = list(self.stack)
        fields["vars"] = plain_copy(self.vars)
        fields["scratch"] = plain_copy(self.scratch)
        fields["history"] = list(self.history)
        fields["sensitive"] = dict(self.sensitive)
        return copied

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    def to_json_reusing(self, known: Mapping[int, str]) -> tuple[str, dict[int, str]]:
        """What `to_json` gives (`history` last), with the JSON of each snapshot found in
        `known` (by `id`) taken from there instead of written again, and the JSON of this
        state's snapshots by `id`, to pass next time. Snapshots never change, and a state's
        next one shares most of them: a step usually adds one. `known` must describe
        snapshots still held (by the state it was made for), so that no `id` is reused."""
        texts: dict[int, str] = {}
        parts = []
        for snapshot in self.history:
            text = known.get(id(snapshot))
            if text is None:
                text = snapshot.model_dump_json(exclude_defaults=True)
            texts[id(snapshot)] = text
            parts.append(text)
        head = self.model_dump_json(exclude_defaults=True, exclude=_HISTORY)
        if not parts:
            return head, texts
        history = f'"history":[{",".join(parts)}]'
        return (f"{head[:-1]},{history}}}" if head != "{}" else f"{{{history}}}"), texts

    @classmethod
    def from_json(cls, data: str | bytes) -> ConversationState:
        return cls.model_validate_json(data)
