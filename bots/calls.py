"""Bot API calls as values: what to call, for which chat, and how to deliver it.

`BotApiCall.params` are exactly what goes to Telegram: nothing is stripped before sending.
How the call is to be delivered (whether a refusal earns the person an apology, whether its
message is remembered for `/forget` or deleted when the chat vanishes, where it goes for a
handoff) is a typed `Delivery` beside it, journalled with it in a column of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: what a call's answer creates, remembered for its handoff: the topic, the card, a relayed copy
Place = Literal["topic", "card", "relay"]


@dataclass(frozen=True)
class Placement:
    """A call in the moderators' chat on behalf of a handoff: resolved when it is sent, since
    the topic and the card it refers to are created by earlier calls."""

    handoff: str
    #: the call's answer is this handoff's topic, card or a relayed copy: remember it
    place: Place | None = None
    #: post it in the handoff's topic (when there is one), else as a reply to its card
    in_topic: bool = False
    #: the call edits the handoff's card (its message id is filled in at send time)
    card_of: bool = False
    #: only where there is a topic, and only while the handoff is open
    topic_only: bool = False


@dataclass(frozen=True)
class Delivery:
    """How a call is delivered; none of it is sent to Telegram."""

    #: a refusal is logged, and the person gets no apology (moderators' chat, deletions, notices)
    quiet: bool = False
    #: the language of the person the call is for (their apology is said in it)
    lang: str | None = None
    #: this call is an apology (never apologised for in turn)
    apology: bool = False
    #: its message is not remembered for `/forget` to delete (the "done" after forgetting)
    unrecorded: bool = False
    #: delete its message this many seconds after it is sent (a vanishing chat)
    vanish: float | None = None
    #: before everything else queued for the chat, and at once after a 429 (the quick exit);
    #: kept in memory only: after a crash such a call goes out as any other
    urgent: bool = False
    #: for a handoff, in the moderators' chat
    handoff: Placement | None = None

    def to_json(self) -> dict[str, Any]:
        """Only what differs from the defaults (most calls journal `{}`)."""
        found: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "urgent" or value == item.default:
                continue
            found[item.name] = dataclasses.asdict(value) if isinstance(value, Placement) else value
        return found

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivery:
        values = dict(data)
        if values.get("handoff") is not None:
            values["handoff"] = Placement(**values["handoff"])
        return cls(**values)


#: the markers earlier versions journalled inside the params (`_quiet`, `_handoff`, ...)
_MARKERS = (
    "_quiet",
    "_lang",
    "_apology",
    "_unrecorded",
    "_vanish",
    "_urgent",
    "_handoff",
    "_place",
    "_in_topic",
    "_card_of",
    "_topic_only",
)


def from_old_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], Delivery]:
    """A call journalled before deliveries had a column of their own: its markers taken out
    of the params into a `Delivery` (so an upgraded database still sends what it holds)."""
    clean = {k: v for k, v in params.items() if k not in _MARKERS}
    placement = None
    if params.get("_handoff"):
        placement = Placement(
            handoff=str(params["_handoff"]),
            place=params.get("_place"),
            in_topic=bool(params.get("_in_topic")),
            card_of=bool(params.get("_card_of")),
            topic_only=bool(params.get("_topic_only")),
        )
    delivery = Delivery(
        quiet=bool(params.get("_quiet")),
        lang=params.get("_lang"),
        apology=bool(params.get("_apology")),
        unrecorded=bool(params.get("_unrecorded")),
        vanish=params.get("_vanish"),
        handoff=placement,
    )
    return clean, delivery


@dataclass(frozen=True)
class BotApiCall:
    """One Bot API call for a chat (`chat` is the chat's key in the database)."""

    chat: str
    method: str
    params: dict[str, Any]
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def chat_id(self) -> int:
        """The Telegram chat the call goes to (0 when it names none)."""
        value = self.params.get("chat_id", 0)
        return int(value) if isinstance(value, int | str) and str(value).lstrip("-").isdigit() else 0
