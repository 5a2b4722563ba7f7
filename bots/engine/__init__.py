"""The conversation engine: pure functions of (state, event) to (state, outputs)."""

from __future__ import annotations

from bots.engine.engine import CannedReply, Engine, FlowError, StepResult
from bots.engine.events import Event, event_from_text
from bots.engine.project import LoadedBot, Project
from bots.engine.runtime import StepContext
from bots.engine.state import ConversationState

__all__ = [
    "CannedReply",
    "ConversationState",
    "Engine",
    "Event",
    "FlowError",
    "LoadedBot",
    "Project",
    "StepContext",
    "StepResult",
    "event_from_text",
]
