"""The conversation engine: (state, event) -> (new state, outputs). No I/O, no clock.

Modelled on goflow's sprints: one event moves the conversation through as many nodes as
it can without the person, then stops at a question, a handoff or the end.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from bots.engine import asides, commands
from bots.engine import events as ev
from bots.engine.expressions import CURRENT_LANGUAGE, ExpressionError
from bots.engine.expressions import render as render_template
from bots.engine.i18n import SourceTexts, Translator
from bots.engine.inputs import MAX_FILE_BYTES, MAX_INPUT_CHARS
from bots.engine.nodes.base import WAIT, End, Go, SubflowCall, Transition
from bots.engine.outputs import (
    CloseHandoff,
    ConversationEnded,
    ExitNow,
    ForgetMe,
    Metric,
    Output,
    Problem,
    Relay,
    Say,
)
from bots.engine.project import Project, qualify_flow, split_target
from bots.engine.runtime import StepContext, StepRuntime
from bots.engine.state import ConversationState, Frame
from bots.engine.texts import BUILTIN, BUILTIN_CONTEXT

MAX_HOPS = 500  # nodes visited in one step before we call it a loop
_COMMAND_LIKE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@\w+)?(\s.*)?$", re.DOTALL)


class FlowError(Exception):
    """The flow cannot go on (a loop without questions, a reference that vanished)."""


@dataclass
class StepResult:
    state: ConversationState
    outputs: list[Output] = field(default_factory=list)


@dataclass(frozen=True)
class CannedReply:
    """A moderators' canned reply rendered for a person (Telegram HTML).

    When its template failed at run time, `text` is the reply as written (escaped) and
    `problem` says why, for the adapter to log: the engine logs nothing.
    """

    text: str
    problem: Problem | None = None


class Engine:
    """Runs the conversations of one bot of a loaded project."""

    def __init__(self, project: Project, bot_id: str, translator: Translator | None = None) -> None:
        self.project = project
        self.bot = project.bots[bot_id]
        self.translator = translator or SourceTexts()

    # --- public ----------------------------------------------------------------------------

    def language_for(self, preferred: str | None) -> str:
        """The bot's language for a person who prefers `preferred` (e.g. Telegram's `ru-RU`)."""
        offered = self.bot.config.locales
        if preferred:
            base = preferred.replace("-", "_").split("_")[0].lower()
            for lang in offered:
                if lang.lower() == preferred.lower() or lang.split("_")[0].lower() == base:
                    return lang
        return offered[0]

    def step(self, state: ConversationState | None, event: ev.Event, context: StepContext) -> StepResult:
        """Apply one event. The given state is never modified."""
        working = (
            state.copy_deep()
            if state is not None
            else ConversationState(lang=self.language_for(context.language), status="ended")
        )
        rt = StepRuntime(self.project, self.bot, working, context, self.translator)
        language = CURRENT_LANGUAGE.set(working.lang)
        try:
            self._dispatch(rt, event)
        except (ExpressionError, FlowError) as err:
            # the person gets an apology and keeps the state they had; the adapter logs the place
            apology = StepRuntime(self.project, self.bot, working, context, self.translator).builtin("apology")
            problem = Problem(where=rt.where, detail=str(err))
            kept = state if state is not None else ConversationState(lang=working.lang, status="ended")
            return StepResult(kept, [Say(apology), problem])
        finally:
            CURRENT_LANGUAGE.reset(language)
        gone = any(isinstance(o, (ForgetMe, ExitNow)) for o in rt.outputs)
        if state is None and not gone:
            asides.announce_vanishing(rt, rt.outputs)
        today = context.now.date().isoformat()
        if working.counted != today and not gone:
            working.counted = today  # each person once a day, without keeping who
            rt.outputs += [Metric("people"), Metric("language", working.lang)]
        for output in rt.outputs:
            if isinstance(output, ConversationEnded) and output.outcome:
                rt.outputs.append(Metric("outcome", output.outcome))
                break
        return StepResult(working, rt.outputs)

    def exit_line(self, lang: str) -> str:
        """The one harmless line the quick exit leaves in the chat (Telegram HTML)."""
        text = self.bot.config.exit_text
        if text:
            return html.escape(self.translator.translate(lang, text, "bot"), quote=False)
        return self.translator.translate(lang, BUILTIN["exit_line"], BUILTIN_CONTEXT)

    def event_for_text(self, text: str) -> ev.Event:
        """A typed line as an event, with this bot's quick-exit command."""
        return ev.event_from_text(text, self.bot.config.exit_command)

    def canned(self, state: ConversationState, name: str, context: StepContext) -> CannedReply | None:
        """The moderators' canned reply `name` in this person's language, or None if there is none."""
        source = self.project.canned.get(name)
        if source is None:
            return None
        rt = StepRuntime(self.project, self.bot, state.copy_deep(), context, self.translator)
        translated = self.translator.translate(state.lang, source, f"canned:{name}")
        language = CURRENT_LANGUAGE.set(state.lang)
        try:
            return CannedReply(render_template(translated, rt.variables()))
        except ExpressionError as err:
            problem = Problem(where=f"{self.bot.id}/canned:{name}", detail=str(err))
            return CannedReply(html.escape(translated, quote=False), problem)
        finally:
            CURRENT_LANGUAGE.reset(language)

    # --- events -------------------------------------------------------------------------

    def _dispatch(self, rt: StepRuntime, event: ev.Event) -> None:
        state = rt.state
        # the quick exit, vanishing messages, the safety flow; /language, /forget, /subscribe
        then = asides.handle(rt, event) or commands.handle(rt, event)
        if then is not None:
            if then == "reprompt":
                self._reprompt(rt)
            elif then == "carry_on":
                self._carry_on(rt)
            elif isinstance(then, SubflowCall):
                self._run(rt, then)
            return
        if isinstance(event, ev.Start):
            self._start(rt)
            return
        if not self._still_valid(rt):
            rt.hint("flow_changed")
            self._start(rt)
            return
        if isinstance(event, ev.Resume):
            if state.status == "ended":
                self._start(rt)
            elif state.status == "handoff":
                rt.hint("help_handoff")
            else:
                self._reprompt(rt)
        elif isinstance(event, ev.Help):
            if state.status == "handoff":
                text = rt.builtin("help_handoff")
            else:
                text = rt.text(self.bot.config.help) if self.bot.config.help else rt.builtin("help")
            rt.emit(Say(text, asides.help_buttons(rt)))
            self._reprompt(rt)
        elif isinstance(event, ev.Back):
            self._back(rt)
        elif isinstance(event, ev.EndHandoff):
            if state.status == "handoff":
                rt.emit(CloseHandoff(by="person"))
                self._resume_after_handoff(rt, None, "closed")
            else:
                rt.hint("end_nothing")
                self._reprompt(rt)
        elif isinstance(event, ev.HandoffClosed):
            if state.status == "handoff":
                self._resume_after_handoff(rt, event.resume_at, event.how)
        elif state.status == "ended":
            if isinstance(event, ev.Press):
                rt.hint("expired")
            self._start(rt)
        elif isinstance(event, ev.Press):
            self._press(rt, event.data)
        elif isinstance(event, ev.Text):
            self._text(rt, event.text)
        elif isinstance(event, ev.Unsupported):
            self._unsupported(rt, event.kind, event.size)

    def _start(self, rt: StepRuntime) -> None:
        state = rt.state
        if state.status == "handoff":
            rt.emit(CloseHandoff(by="restart"))
        state.stack = []
        state.vars = {}
        state.scratch = {}
        state.history = []
        state.sensitive = {}
        state.status = "active"
        start = qualify_flow(self.bot.config.start, self.bot.id)
        self._run(rt, SubflowCall(start))

    def _text(self, rt: StepRuntime, text: str) -> None:
        node = rt.node
        if node is None:
            raise FlowError("the conversation stands on no node")
        if rt.state.status != "handoff" and _COMMAND_LIKE.match(text.strip()) and len(text) < 200:
            rt.hint("unknown_command")
            node.prompt(rt)
            return
        if len(text) > MAX_INPUT_CHARS and rt.state.status != "handoff":
            rt.hint("error_too_long", max_length=MAX_INPUT_CHARS)
            node.prompt(rt)
            return
        self._run(rt, node.on_text(rt, text))

    def _unsupported(self, rt: StepRuntime, kind: str, size: int = 0) -> None:
        node = rt.node
        if node is None:
            raise FlowError("the conversation stands on no node")
        if size > MAX_FILE_BYTES:
            rt.hint("error_file_too_large", max_mb=MAX_FILE_BYTES // (1024 * 1024))
            if rt.state.status != "handoff":
                node.prompt(rt)
            return
        if rt.state.status == "handoff":
            rt.emit(Relay("", kind=kind))
            return
        self._run(rt, node.on_unsupported(rt))

    def _press(self, rt: StepRuntime, data: str) -> None:
        node = rt.node
        if node is None:
            raise FlowError("the conversation stands on no node")
        step, _, code = data.partition(":")
        if rt.state.status != "waiting" or step != str(rt.state.step) or not code:
            rt.hint("expired")
            if rt.state.status != "handoff":
                node.prompt(rt)
            return
        self._run(rt, node.on_press(rt, code))

    def _back(self, rt: StepRuntime) -> None:
        state = rt.state
        if state.status == "handoff":
            rt.hint("help_handoff")
            return
        # while a question waits, history[-1] is that question; after the end it is the last one
        drop = 2 if state.status == "waiting" else 1
        if len(state.history) < drop:
            rt.hint("back_none")
            self._reprompt(rt)
            return
        del state.history[len(state.history) - drop + 1 :]
        snapshot = state.history.pop()
        left = _here(state)
        rt.restore(snapshot)
        node = rt.node
        if node is None:
            raise FlowError("the previous question no longer exists")
        _count_move(rt, left)  # going back is a move too: the question left was not given up
        self._run(rt, node.enter(rt))

    def _carry_on(self, rt: StepRuntime) -> None:
        """After a side matter (language, news, /forget declined): the question again, or the
        start when the conversation had ended."""
        if rt.state.status == "ended":
            self._start(rt)
        else:
            self._reprompt(rt)

    def _reprompt(self, rt: StepRuntime) -> None:
        node = rt.node
        if rt.state.status == "waiting" and node is not None:
            node.prompt(rt)

    def _resume_after_handoff(self, rt: StepRuntime, resume_at: str | None, how: ev.HandoffEnding) -> None:
        node = rt.node
        target = node.resume_target(how) if node is not None else None
        if how not in ("accepted", "declined"):  # an application's own node says the result
            rt.hint({"returned": "handoff_returned", "unavailable": "handoff_unavailable"}.get(how, "handoff_ended"))
        rt.state.status = "active"
        self._run(rt, Go(resume_at or target))

    def _still_valid(self, rt: StepRuntime) -> bool:
        return rt.state.status == "ended" or rt.position_exists()

    # --- moving through nodes ---------------------------------------------------------

    def _run(self, rt: StepRuntime, transition: Transition) -> None:
        state = rt.state
        came_from = _here(state)
        for _ in range(MAX_HOPS):
            if transition is WAIT:
                if state.status != "handoff":
                    state.status = "waiting"
                return
            if isinstance(transition, End):
                self._finish(rt, transition.outcome)
                return
            if isinstance(transition, SubflowCall):
                caller = state.current.flow if state.current else qualify_flow(self.bot.config.start, self.bot.id)
                flow_id = qualify_flow(transition.flow, caller.partition("/")[0])
                flow = self.project.flow(flow_id)
                if flow is None:
                    raise FlowError(f"flow '{flow_id}' does not exist")
                state.stack.append(Frame(flow=flow_id, node=flow.start))
                transition = self._enter(rt, came_from)
                came_from = _here(state)
            elif isinstance(transition, Go):
                if transition.target is None:
                    self._flow_ended(rt)
                    if not state.stack:
                        self._finish(rt, None)
                        return
                    node = rt.node
                    if node is None:
                        raise FlowError("a subflow returned to no node")
                    frame = state.stack[-1]
                    if frame.aside:  # back from /help's safety flow: the question again
                        state.stack[-1] = Frame(flow=frame.flow, node=frame.node)
                        transition = Go(f"{frame.flow}:{frame.node}")
                    else:
                        transition = node.after_return(rt)
                else:
                    flow_id, node_id = split_target(transition.target, rt.flow_id)
                    left = rt.flow_id
                    state.stack[-1] = Frame(flow=flow_id, node=node_id)
                    if left != flow_id and all(frame.flow != left for frame in state.stack):
                        rt.wipe_sensitive(left)  # a jump ends the flow it leaves
                    transition = self._enter(rt, came_from)
                    came_from = _here(state)
        raise FlowError(f"more than {MAX_HOPS} nodes in one step without a question: the flow loops")

    def _enter(self, rt: StepRuntime, came_from: str | None) -> Transition:
        node = rt.node
        if node is None:
            frame = rt.state.current
            raise FlowError(f"node '{frame.node if frame else '?'}' does not exist")
        rt.state.scratch = {}
        rt.state.status = "active"
        _count_move(rt, came_from)
        return node.enter(rt)

    def _flow_ended(self, rt: StepRuntime) -> None:
        ended = rt.state.stack.pop()
        rt.wipe_sensitive(ended.flow)

    def _finish(self, rt: StepRuntime, outcome: str | None) -> None:
        state = rt.state
        state.stack = []
        state.scratch = {}
        state.status = "ended"
        rt.wipe_sensitive(None)
        rt.emit(ConversationEnded(outcome))


def _here(state: ConversationState) -> str | None:
    """`flow:node` of the node the conversation stands on, as the counters name it."""
    frame = state.current
    return f"{frame.flow}:{frame.node}" if frame else None


def _count_move(rt: StepRuntime, came_from: str | None) -> None:
    """Count an entry into the node now current and, when the conversation came from another
    node, the move (`edge`, `from>to`). Every entry of a node is followed by a move out of it
    or by nothing at all (the conversation ended there, started again or went idle), so the
    report's drop-off is entries minus moves out, whatever the order of the nodes."""
    here = _here(rt.state)
    if here is None:
        return
    rt.emit(Metric("node", here))
    if came_from is not None:
        rt.emit(Metric("edge", f"{came_from}>{here}"))
