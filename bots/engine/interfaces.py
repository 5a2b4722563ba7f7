"""What a node may use while it runs: the `Runtime` interface (goflow's `flows/interfaces.go`).

Nodes depend on this protocol, never on the engine's own runtime class
(`bots.engine.runtime.StepRuntime`), so the node types import nothing of the engine that
imports them, and a node can be read, and tried, against anything that offers these calls.
Everything here is about one step of one conversation; none of it does I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from bots.engine.catalog import Catalog, CatalogItem
from bots.engine.hours import OfficeHours
from bots.engine.outputs import Button, Output
from bots.engine.state import ConversationState

#: where a key sits in a node, for messages: `("options", 2, "label")`
KeyPath = tuple[str | int, ...]


class Runtime(Protocol):
    """One step of one conversation, as a node sees it."""

    # --- where we are --------------------------------------------------------------------

    @property
    def state(self) -> ConversationState:
        """The working copy of the conversation's state (the engine keeps the original)."""
        ...

    @property
    def flow_id(self) -> str:
        """The qualified flow (`bot/flow`) of the node running."""
        ...

    @property
    def now(self) -> dt.datetime:
        """The step's time, given by the adapter (the engine has no clock)."""
        ...

    @property
    def today(self) -> dt.date: ...

    @property
    def bot_name(self) -> str:
        """The bot's `name` from `bot.yaml`, untranslated."""
        ...

    @property
    def hours(self) -> OfficeHours | None:
        """When the bot's moderators answer (`bot.yaml` `hours`), if it says."""
        ...

    # --- variables and expressions ----------------------------------------------------------

    def store(self, name: str, value: Any, *, sensitive: bool = False) -> None:
        """Save a variable (as plain JSON data); `sensitive` ones are wiped when the flow ends."""
        ...

    def evaluate(self, source: str, path: KeyPath, **extra: Any) -> Any:
        """The value of the expression at `path` of the node (named in errors)."""
        ...

    def truth(self, source: str, path: KeyPath, **extra: Any) -> bool: ...

    def shareable_answers(self) -> dict[str, Any]:
        """The variables a handoff card may show: all but the sensitive ones."""
        ...

    # --- texts -------------------------------------------------------------------------------

    def label(self, source: str, path: KeyPath) -> str:
        """A button label: translated, rendered as plain text."""
        ...

    def render_plain(self, source: str, path: KeyPath) -> str:
        """A template for moderators (not translated), as plain text."""
        ...

    def builtin(self, key: str, **params: Any) -> str:
        """One of the engine's own texts (`bots.engine.texts`), translated, `params` put in."""
        ...

    def catalog(self, name: str) -> Catalog: ...

    def catalog_text(self, catalog: str, item: CatalogItem, source: str | None, *, plain: bool = False) -> str:
        """A text of `item` (its title, summary...) translated; escaped as HTML unless `plain`."""
        ...

    # --- outputs ---------------------------------------------------------------------------

    def emit(self, output: Output) -> None: ...

    def say(self, source: str, key: str, *, document: str | None = None) -> None:
        """Say the node's text `source` (the value of its key `key`), with a document or not."""
        ...

    def hint(self, key: str, **params: Any) -> None:
        """Say one of the engine's own texts."""
        ...

    def ask(self, source: str, buttons: list[Button], *, replace: bool = False) -> None:
        """Ask the node's `text` with `buttons`; `replace` updates the last question in place."""
        ...

    def ask_rendered(self, text: str, buttons: list[Button], *, replace: bool = False) -> None:
        """Ask a text already rendered (Telegram HTML)."""
        ...

    # --- questions and buttons ---------------------------------------------------------

    def begin_question(self) -> None:
        """Entering a question: a new step (old buttons expire) and a place for /back."""
        ...

    def button(self, code: str) -> str:
        """Button data for the node's own `code`, bound to this question."""
        ...

    def code_of(self, data: str) -> str:
        """The node's code in button data made by `button`."""
        ...
