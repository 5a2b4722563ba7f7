"""The organisers' files as typed data: bot, flow, catalog and conversation-test models.

The same models validate the YAML at load time and (later) generate the JSON Schemas that
editors use, so the two cannot disagree. Catalogs are defined in `bots.engine.catalog` (nodes
read them at run time) and named here too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bots.engine.catalog import Catalog, CatalogItem  # noqa: F401 (read from here by the loader and tools)
from bots.engine.hours import OfficeHours
from bots.engine.nodes import NODE_TYPES
from bots.engine.nodes.base import Node

ID_PATTERN = r"^[a-z0-9_]+$"
LOCALE_PATTERN = r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$"

if TYPE_CHECKING:  # to type checkers a node is a Node; to pydantic, one of the registered types
    AnyNode = Node
else:
    AnyNode = Annotated[Union[tuple(NODE_TYPES.values())], Field(discriminator="type")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)


class FloodLimits(Strict):
    """How fast one person may write before the bot pauses for them (an extension)."""

    messages: int = Field(default=20, ge=1, le=10_000)
    seconds: float = Field(default=60.0, gt=0, le=86_400)
    pause: float = Field(default=300.0, gt=0, le=86_400)


#: Telegram lets a bot delete a private chat's messages only for 48 hours: an hour's margin
VANISH_LIMIT = 47 * 3600
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


def duration_seconds(text: str) -> int | None:
    """`2h` -> 7200, `90m`, `1h30m`, `1d`; None when it is not such a duration."""
    found = _DURATION.match(text.lower())
    if found is None or not any(found.groups()):
        return None
    days, hours, minutes = (int(part or 0) for part in found.groups())
    return (days * 24 + hours) * 3600 + minutes * 60


class BotConfig(Strict):
    """`flows/<bot>/bot.yaml`."""

    name: str = Field(min_length=1, max_length=64)
    start: str
    source_locale: str = Field(pattern=LOCALE_PATTERN)
    locales: list[Annotated[str, Field(pattern=LOCALE_PATTERN)]] = Field(min_length=1)
    token_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    moderators_chat_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    retention_days: int = Field(default=30, ge=1, le=3650)
    #: extension: what /help says before the current question is asked again
    help: str | None = None
    #: extension: when the moderators answer; outside these hours a handoff says when to expect them
    hours: OfficeHours | None = None
    #: extension: more than `messages` updates from one person in `seconds` pauses them for `pause` seconds
    flood: FloodLimits = Field(default_factory=FloodLimits)
    #: extension: post last week's summary (`bots report`) to the moderators' group every Monday
    weekly_report: bool = False
    #: extension: the language of the moderators' cards and notices (default: source_locale)
    moderators_locale: str | None = Field(default=None, pattern=LOCALE_PATTERN)
    #: extension: delete the bot's and the person's messages in the chat once they are this old
    #: (`2h`, `90m`, `1d`; from 1 minute to 47 hours); each person may choose otherwise under /help
    vanish_after: str | None = None
    #: extension: what the bot sends cannot be forwarded or saved (Telegram's `protect_content`)
    protect_content: bool = True
    #: extension: the quick-exit command (`/x`): deletes the chat, forgets the person, leaves `exit_text`
    exit_command: str = Field(default="x", pattern=r"^[a-z0-9_]{1,32}$")
    #: extension: the one harmless line the quick exit leaves in the chat (default: a weather line)
    exit_text: str | None = Field(default=None, min_length=1, max_length=200)
    #: extension: the flow that /help's "Your safety" button runs, then the question again
    safety: str | None = None

    @field_validator("vanish_after")
    @classmethod
    def _vanish_after(cls, value: str | None) -> str | None:
        if value is None:
            return None
        seconds = duration_seconds(value)
        if seconds is None:
            raise ValueError(f"is '{value}', which is not a duration: write it like 2h, 90m or 1d")
        if seconds < 60:
            raise ValueError(f"is '{value}': it must be at least 1 minute (1m)")
        if seconds > VANISH_LIMIT:
            raise ValueError(
                f"is '{value}', longer than Telegram allows: a bot may delete the messages of a private chat "
                "only within 48 hours, so vanish_after is at most 47h"
            )
        return value

    @property
    def vanish_seconds(self) -> int:
        """`vanish_after` in seconds; 0 when the bot's messages do not vanish by default."""
        return (duration_seconds(self.vanish_after) or 0) if self.vanish_after else 0


class Flow(Strict):
    """`flows/<bot>/<flow>.yaml`: a start node and the nodes by id."""

    id: str | None = Field(default=None, pattern=ID_PATTERN)
    start: str
    nodes: dict[Annotated[str, Field(pattern=ID_PATTERN)], AnyNode] = Field(min_length=1)

    def node(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)


CANNED_NAME_PATTERN = r"^[a-z0-9_-]{1,32}$"


class CannedReplies(Strict):
    """`knowledge/canned.yaml` (an extension): replies moderators send with `/canned NAME`,
    written in the source language and translated like other knowledge texts."""

    canned: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)


class TestStep(Strict):
    """One step of a conversation test: exactly one of `send`, `press`, `expect`, `expect_not`."""

    send: str | None = None
    press: str | None = None
    expect: str | None = None
    #: extension: a text the bot's next reply must not contain
    expect_not: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TestStep:
        given = [key for key, value in self._actions().items() if value is not None]
        if not given:
            raise ValueError("has none of send, press, expect, expect_not; a step has exactly one")
        if len(given) > 1:
            both = " and ".join(f"'{k}'" for k in given)
            raise ValueError(f"has both {both}; a step has exactly one of send, press, expect, expect_not (make them two steps)")
        return self

    def _actions(self) -> dict[str, str | None]:
        return {"send": self.send, "press": self.press, "expect": self.expect, "expect_not": self.expect_not}

    @property
    def action(self) -> tuple[str, str]:
        for key, value in self._actions().items():
            if value is not None:
                return key, str(value)
        raise AssertionError("validated to have one action")


class ConversationTest(Strict):
    """One conversation test of `flows/<bot>/tests/*.yaml`."""

    name: str = Field(min_length=1)
    lang: str | None = Field(default=None, pattern=LOCALE_PATTERN)
    #: extension: the first name the bot sees (`user.first_name`), "Alex" by default
    first_name: str = "Alex"
    steps: list[TestStep] = Field(min_length=1)
