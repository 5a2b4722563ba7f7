"""The person's commands beside the flow: /language, /forget, /subscribe (and their buttons).

Like the safety controls (`bots.engine.asides`) they are side matters: each says what the
engine does next (`Then`), and the question the person was at is usually asked again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from bots.engine import events as ev
from bots.engine.expressions import CURRENT_LANGUAGE
from bots.engine.i18n import native_name
from bots.engine.nodes.base import SubflowCall
from bots.engine.outputs import Button, Chosen, ForgetMe, Metric, Say, Subscription

if TYPE_CHECKING:
    from bots.engine.runtime import StepRuntime

LANGUAGE_BUTTON = "L:"  # button data of the /language menu; not bound to a step
FORGET_BUTTON = "F:"  # button data of /forget: F:ask (from /help), F:yes, F:no

#: what the engine does once a side matter is handled: nothing more, the question again,
#: carry on (the question again, or the start if the conversation had ended), or run a flow
Then = Literal["done", "reprompt", "carry_on"] | SubflowCall


def handle(rt: StepRuntime, event: ev.Event) -> Then | None:
    """Take the event if it is one of these commands and say what the engine does next;
    None leaves the event to the engine."""
    locales = rt.bot.config.locales
    if isinstance(event, ev.SetLanguage):
        if event.lang in locales:
            rt.state.lang = event.lang
            CURRENT_LANGUAGE.set(rt.state.lang)
        return "reprompt"
    if isinstance(event, ev.ChooseLanguage):
        buttons = [Button(native_name(lang), f"{LANGUAGE_BUTTON}{lang}") for lang in locales]
        rt.emit(Say(rt.builtin("choose_language"), tuple(buttons)))
        return "done"
    if isinstance(event, ev.Press) and event.data.startswith(LANGUAGE_BUTTON):
        lang = event.data.removeprefix(LANGUAGE_BUTTON)
        if lang not in locales:
            rt.hint("expired")
            return "reprompt"
        rt.state.lang = lang
        CURRENT_LANGUAGE.set(rt.state.lang)
        rt.emit(Chosen(native_name(lang)))
        rt.hint("language_set")
        return "carry_on"
    if isinstance(event, ev.Forget) or (isinstance(event, ev.Press) and event.data == f"{FORGET_BUTTON}ask"):
        answers = (
            Button(rt.builtin("forget_yes"), f"{FORGET_BUTTON}yes"),
            Button(rt.builtin("forget_no"), f"{FORGET_BUTTON}no"),
        )
        rt.emit(Say(rt.builtin("forget_confirm"), answers))
        return "done"
    if isinstance(event, ev.Press) and event.data == f"{FORGET_BUTTON}yes":
        rt.emit(Chosen(rt.builtin("forget_yes")))
        rt.emit(ForgetMe())
        return "done"
    if isinstance(event, ev.Press) and event.data == f"{FORGET_BUTTON}no":
        rt.emit(Chosen(rt.builtin("forget_no")))
        rt.hint("forget_kept")
        return "carry_on"
    if isinstance(event, ev.Subscribe):
        rt.emit(Subscription(event.on))
        rt.emit(Metric("subscribed" if event.on else "unsubscribed"))
        rt.hint("subscribed" if event.on else "unsubscribed")
        return "carry_on"
    return None
