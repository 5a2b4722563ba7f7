"""The chat pane: talk to a bot on the engine, as `bots chat` does, with buttons as buttons.

One conversation per bot, kept in memory (`bots.console.session.Conversation`, the harness of `bots
test`): the studio is for trying flows, and a page reload should not lose the conversation
while the studio runs. Before every step the newest version of the flows without errors is
taken, drafts included, so what is typed in the editor is tried at the next message; a
version with errors is refused and the previous one stays, as in `bots chat`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.console.session import Conversation
from bots.console.terminal import default_first_name
from bots.console.transcript import plain_lines
from bots.engine import Engine
from bots.engine import events as ev
from bots.engine.expressions import to_plain
from bots.engine.i18n import Translator
from bots.engine.outputs import Output, Problem, Say
from bots.engine.project import Project
from bots.studio.workspace import Workspace

ACTIONS = ("open", "send", "press", "back", "restart", "lang")


class ChatRefused(ValueError):
    """The step cannot be taken (no such bot, language or action); the message says why."""


@dataclass
class _Talk:
    conversation: Conversation
    project: Project
    translator: Translator


class ChatPane:
    def __init__(self, workspace: Workspace, *, first_name: str | None = None) -> None:
        self.workspace = workspace
        self.first_name = first_name if first_name is not None else default_first_name()
        self.talks: dict[str, _Talk] = {}

    def step(self, bot: str, action: str, value: str = "") -> dict[str, Any]:
        """Take one step of the conversation with `bot`; what it said, where it stands, notes."""
        if action not in ACTIONS:
            raise ChatRefused(f"unknown action '{action}'")
        notes: list[str] = []
        good = self.workspace.good()
        if good is None:
            errors = [d.render() for d in self.workspace.load().errors]
            notes = ["the flows have errors: fix them (see the problems under the editor) to try the bot"]
            return {"messages": [], "notes": notes, "errors": errors, "flow": None, "node": None}
        project, translator = good.loaded.project, good.translator
        if good.refused:
            notes.append("the flows changed, but the change has errors; still using the previous version")
        if bot not in project.bots or not project.bots[bot].config.start:
            raise ChatRefused(f"no bot '{bot}'")
        talk = self.talks.get(bot)
        if talk is None:
            engine = Engine(project, bot, translator)
            talk = _Talk(Conversation(engine, first_name=self.first_name), project, translator)
            self.talks[bot] = talk
            if action in ("open", "send", "press", "back"):
                action, value = "restart", ""
        elif talk.project is not project or talk.translator is not translator:
            talk.conversation.engine = Engine(project, bot, translator)
            talk.project, talk.translator = project, translator
            notes.append("the flows changed: using the new version")
        outputs = self._take(talk.conversation, action, value)
        return {
            "messages": [message_json(o) for o in outputs if message_json(o)],
            "notes": notes,
            "errors": good.refused,
            **where(talk.conversation),
        }

    def _take(self, conversation: Conversation, action: str, value: str) -> list[Output]:
        engine = conversation.engine
        if action == "lang":
            if value not in engine.bot.config.locales:
                raise ChatRefused(f"the bot does not speak '{value}'")
            conversation.lang = value
            if conversation.state is None:
                return conversation.handle(ev.Start())
            return conversation.handle(ev.SetLanguage(value))
        if action == "restart":
            return conversation.handle(ev.Start())
        if action == "back":
            return conversation.handle(ev.Back())
        if action == "press":
            return conversation.handle(ev.Press(value))
        if action == "send":
            return conversation.send(value)
        # open: the question waiting, asked again (or a new conversation if the last one ended)
        return conversation.handle(ev.Resume())


def where(conversation: Conversation) -> dict[str, Any]:
    """The node the conversation stands on (for the graph), its language and status."""
    state = conversation.state
    frame = state.current if state is not None else None
    return {
        "flow": frame.flow if frame is not None else None,
        "node": frame.node if frame is not None else None,
        "lang": state.lang if state is not None else conversation.engine.language_for(conversation.lang),
        "status": state.status if state is not None else "ended",
    }


def message_json(output: Output) -> dict[str, Any] | None:
    """One output as the page shows it: plain text (never HTML) and its buttons, or a note."""
    if isinstance(output, Say):
        return {
            "text": to_plain(output.text),
            "buttons": [{"label": b.label, "data": b.data} for b in output.buttons],
            "document": output.document,
        }
    if isinstance(output, Problem):
        return {"note": f"flow problem at {output.where}: {output.detail}"}
    lines = plain_lines([output], notes=True)
    return {"note": " ".join(lines)} if lines else None
