"""The engine's runtime: what a node may do during one step, and what the engine keeps of it.

A `StepRuntime` lives for one step of one conversation. It owns the working copy of the state
and collects the outputs; it performs no I/O. Nodes see it through the `Runtime` protocol
(`bots.engine.interfaces`); the engine also uses the rest (where the conversation stands,
the outputs, going back to a snapshot).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from jinja2 import Undefined

from bots.engine import expressions
from bots.engine.catalog import Catalog, CatalogItem
from bots.engine.hours import OfficeHours
from bots.engine.i18n import Translator
from bots.engine.interfaces import KeyPath
from bots.engine.nodes.base import Node
from bots.engine.outputs import Button, Output, Say
from bots.engine.state import HISTORY_LIMIT, ConversationState, Snapshot, plain_copy
from bots.engine.texts import BUILTIN, BUILTIN_CONTEXT

if TYPE_CHECKING:
    from bots.engine.project import LoadedBot, Project

RESERVED_VARIABLES = frozenset({"user", "bot", "item"})


@dataclass(frozen=True)
class StepContext:
    """What the adapter knows about this step that the state does not keep."""

    now: dt.datetime
    first_name: str = ""
    #: the language a new conversation starts in, if the bot offers it
    language: str | None = None


def plain_value(value: Any) -> Any:
    """A value as the state keeps it: JSON data only (an undefined variable becomes None, and
    so does a number JSON cannot hold, infinity or NaN, as the database gives it back)."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Undefined):
        return None
    if isinstance(value, str):
        return str(value)  # also turns Markup into a plain string
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    return str(value)


class _at:  # noqa: N801 - used as `with _at(path):`, like a function
    """Name the key of the node in a run-time expression error (`cases[0].when: ...`). A
    class rather than a generator: it is entered for every text rendered, several a step."""

    __slots__ = ("path",)

    def __init__(self, path: KeyPath) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, err: BaseException | None, traceback: object) -> None:
        if isinstance(err, expressions.ExpressionError):
            path = self.path
            where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))
            raise expressions.ExpressionError(f"{where}: {err}") from None


class _Plurals:
    """While a text renders, `plural(...)` in it speaks the person's language (see `_plurals`)."""

    __slots__ = ("say", "token")

    def __init__(self, say: Callable[[str, str, int], str]) -> None:
        self.say = say

    def __enter__(self) -> None:
        self.token = expressions.CURRENT_PLURAL.set(self.say)

    def __exit__(self, *exc: object) -> None:
        expressions.CURRENT_PLURAL.reset(self.token)


class StepRuntime:
    """One step of one conversation: a `Runtime` for the nodes, and more for the engine."""

    def __init__(
        self,
        project: Project,
        bot: LoadedBot,
        state: ConversationState,
        context: StepContext,
        translator: Translator,
    ) -> None:
        self.project = project
        self.bot = bot
        self.state = state
        self.context = context
        self.translator = translator
        self.outputs: list[Output] = []
        self._variables: dict[str, Any] | None = None

    # --- where we are ------------------------------------------------------------------

    @property
    def flow_id(self) -> str:
        frame = self.state.current
        return frame.flow if frame else ""

    @property
    def node(self) -> Node | None:
        frame = self.state.current
        return self.project.node(frame.flow, frame.node) if frame else None

    @property
    def where(self) -> str:
        frame = self.state.current
        return f"{frame.flow}:{frame.node}" if frame else f"{self.bot.id}/-"

    @property
    def now(self) -> dt.datetime:
        return self.context.now

    @property
    def today(self) -> dt.date:
        return self.context.now.date()

    @property
    def bot_name(self) -> str:
        return self.bot.config.name

    @property
    def hours(self) -> OfficeHours | None:
        return self.bot.config.hours

    def position_exists(self) -> bool:
        """Every node of the stack is still in the flows (a live reload may have removed one)."""
        return all(self.project.node(frame.flow, frame.node) is not None for frame in self.state.stack)

    # --- variables and expressions -------------------------------------------------------

    def variables(self) -> dict[str, Any]:
        if self._variables is None:
            self._variables = {
                **self.state.vars,
                "user": {"first_name": self.context.first_name, "language": self.state.lang},
                "bot": {"name": self.translator.translate(self.state.lang, self.bot.config.name, "bot")},
            }
        return self._variables

    def store(self, name: str, value: Any, *, sensitive: bool = False) -> None:
        self.state.vars[name] = plain_value(value)
        if sensitive:
            self.state.sensitive[name] = self.flow_id
        self._variables = None

    def restore(self, snapshot: Snapshot) -> None:
        """Go back to where a question was asked (`/back`), with the answers known then."""
        state = self.state
        state.stack = list(snapshot.stack)
        state.vars = plain_copy(snapshot.vars)
        state.sensitive = {k: v for k, v in state.sensitive.items() if k in state.vars}
        state.status = "active"
        state.scratch = {}
        self._variables = None

    def wipe_sensitive(self, flow_id: str | None) -> None:
        """Forget the sensitive answers that `flow_id` asked (all of them for None), in the
        snapshots for /back too: the flow that asked them has ended."""
        state = self.state
        gone = [name for name, owner in state.sensitive.items() if flow_id is None or owner == flow_id]
        for name in gone:
            state.vars.pop(name, None)
            del state.sensitive[name]
        if gone:
            state.history = [
                Snapshot(stack=s.stack, vars={k: v for k, v in s.vars.items() if k not in gone}) for s in state.history
            ]
            self._variables = None

    def evaluate(self, source: str, path: KeyPath, **extra: Any) -> Any:
        """Evaluate the expression found at `path` of the current node (named in errors)."""
        variables = {**self.variables(), **extra} if extra else self.variables()
        with _at(path):
            return expressions.evaluate(source, variables)

    def truth(self, source: str, path: KeyPath, **extra: Any) -> bool:
        return bool(self.evaluate(source, path, **extra))

    def shareable_answers(self) -> dict[str, Any]:
        return {k: v for k, v in self.state.vars.items() if k not in self.state.sensitive}

    # --- texts -----------------------------------------------------------------------------

    def _context(self) -> str:
        frame = self.state.current
        if not frame:
            return ""
        return f"{frame.flow.partition('/')[2]}:{frame.node}"

    def text(self, source: str) -> str:
        """A node's text for this person: translated, then rendered as Telegram HTML."""
        translated = self.translator.translate(self.state.lang, source, self._context())
        with self._plurals():
            return expressions.render(translated, self.variables())

    def label(self, source: str, path: KeyPath) -> str:
        """A button label: translated, rendered as plain text."""
        translated = self.translator.translate(self.state.lang, source, self._context())
        with _at(path), self._plurals():
            return expressions.render(translated, self.variables(), escape=False).strip()

    def _plurals(self) -> _Plurals:
        """`plural(...)` in the text being rendered speaks this person's language and node."""
        context, lang = self._context(), self.state.lang

        def say(singular: str, plural: str, count: int) -> str:
            return self.translator.translate_plural(lang, singular, plural, count, context)

        return _Plurals(say)

    def render_plain(self, source: str, path: KeyPath) -> str:
        """A template for moderators (not translated), as plain text."""
        with _at(path):
            return expressions.render(source, self.variables(), escape=False).strip()

    def builtin(self, key: str, **params: Any) -> str:
        """One of the engine's own texts, translated, with `params` escaped and put in."""
        translated = self.translator.translate(self.state.lang, BUILTIN[key], BUILTIN_CONTEXT)
        if not params:
            return translated
        shown = {name: html.escape(self._format(value)) for name, value in params.items()}
        try:
            return translated.format(**shown)
        except (KeyError, IndexError, ValueError):  # a translation with broken placeholders
            return BUILTIN[key].format(**shown)

    def _format(self, value: Any) -> str:
        if isinstance(value, dt.date):
            try:
                return format_date(value, format="medium", locale=self.state.lang)
            except (ValueError, LookupError):
                return value.isoformat()
        return str(value)

    def catalog(self, name: str) -> Catalog:
        return self.project.catalogs[name]

    def catalog_text(self, catalog: str, item: CatalogItem, source: str | None, *, plain: bool = False) -> str:
        translated = self.translator.translate(self.state.lang, source or "", f"{catalog}:{item.id}")
        return translated if plain else html.escape(translated, quote=False)

    # --- outputs ---------------------------------------------------------------------------

    def emit(self, output: Output) -> None:
        self.outputs.append(output)

    def say(self, source: str, key: str, *, document: str | None = None) -> None:
        with _at((key,)):
            self.emit(Say(self.text(source), document=document))

    def hint(self, key: str, **params: Any) -> None:
        self.emit(Say(self.builtin(key, **params)))

    def ask(self, source: str, buttons: list[Button], *, replace: bool = False) -> None:
        with _at(("text",)):
            self.ask_rendered(self.text(source), buttons, replace=replace)

    def ask_rendered(self, text: str, buttons: list[Button], *, replace: bool = False) -> None:
        self.emit(Say(text, tuple(buttons), replace=replace))

    # --- questions and buttons ---------------------------------------------------------

    def begin_question(self) -> None:
        """Entering a question: a new step (old buttons expire) and a place for /back."""
        self.state.step += 1
        snapshot = Snapshot(stack=list(self.state.stack), vars=plain_copy(self.state.vars))
        self.state.history.append(snapshot)
        del self.state.history[:-HISTORY_LIMIT]

    def button(self, code: str) -> str:
        """Button data: the current step and the node's own code, e.g. `12:o3`."""
        return f"{self.state.step}:{code}"

    def code_of(self, data: str) -> str:
        return data.partition(":")[2]
