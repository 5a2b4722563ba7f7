"""`bots chat`: talk to a bot in the terminal, on the same engine and store as on Telegram.

Buttons are numbered; answer with the number or the label. When standard input is not a
terminal, each line is one reply and the output is plain text, so a whole conversation can
be piped through. The conversation is saved after every step: stop the program at any
moment and start it again with the same database to carry on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import sys
from typing import TextIO

from bots.console.transcript import last_buttons, plain_lines
from bots.engine import Engine, StepContext
from bots.engine import events as ev
from bots.engine.outputs import Button, ExitNow, ForgetMe, Output, Problem, Say
from bots.engine.texts import BUILTIN, BUILTIN_CONTEXT
from bots.loader.watcher import ProjectWatcher, Version
from bots.storage import ConversationKey, ConversationStore

CONSOLE_CHAT = "console"


class ConsoleChat:
    def __init__(
        self,
        engine: Engine,
        store: ConversationStore,
        *,
        lang: str | None = None,
        first_name: str = "",
        restart: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        watcher: ProjectWatcher | None = None,
    ) -> None:
        self.engine = engine
        self.watcher = watcher
        self.store = store
        self.lang = lang
        self.first_name = first_name
        self.restart = restart
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty()
        self.key = ConversationKey(engine.bot.id, CONSOLE_CHAT)
        self.buttons: tuple[Button, ...] = ()

    async def step(self, event: ev.Event, *, quiet: bool = False) -> list[Output]:
        async with self.store.lock(self.key):
            state = await self.store.load(self.key)
            now = dt.datetime.now(dt.timezone.utc)
            context = StepContext(now=now, first_name=self.first_name, language=self.lang)
            result = self.engine.step(state, event, context)
            if any(isinstance(o, ForgetMe) for o in result.outputs):
                await self.store.delete(self.key)  # nothing of this conversation is kept
                done = self.engine.translator.translate(result.state.lang, BUILTIN["forget_done"], BUILTIN_CONTEXT)
                result.outputs.append(Say(done))
            elif any(isinstance(o, ExitNow) for o in result.outputs):
                await self.store.delete(self.key)  # the quick exit: nothing kept, one harmless line
                result.outputs.append(Say(self.engine.exit_line(result.state.lang)))
            else:
                await self.store.save(self.key, result.state, now=now)
        if not quiet:
            self.show(result.outputs)
        return result.outputs

    def show(self, outputs: list[Output]) -> None:
        self.buttons = last_buttons(outputs)
        lines = plain_lines(outputs, numbered=True)
        if self.interactive:
            lines = [""] + lines
        self.stdout.write("\n".join(lines) + ("\n" if lines else ""))
        self.stdout.flush()
        for output in outputs:
            if isinstance(output, Problem):
                sys.stderr.write(f"flow problem at {output.where}: {output.detail}\n")

    def event_for(self, line: str) -> ev.Event:
        answer = line.strip()
        if self.buttons:
            if answer.isdigit() and 1 <= int(answer) <= len(self.buttons):
                return ev.Press(self.buttons[int(answer) - 1].data)
            for button in self.buttons:
                if button.label.casefold() == answer.casefold():
                    return ev.Press(button.data)
        return self.engine.event_for_text(line.rstrip("\r\n"))

    async def opening(self) -> None:
        state = await self.store.load(self.key)
        if self.lang and state is not None and state.lang != self.engine.language_for(self.lang):
            await self.step(ev.SetLanguage(self.engine.language_for(self.lang)), quiet=True)
        if self.restart or state is None or state.status == "ended":
            await self.step(ev.Start())
        else:
            if self.interactive:
                self.stdout.write("(carrying on where we stopped; send /start to begin again)\n")
            await self.step(ev.Resume())

    async def run(self) -> None:
        await self.opening()
        while True:
            if self.interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                if self.interactive:
                    self.stdout.write("\n")
                return
            if self.interactive and line.strip() in ("/quit", "/exit"):
                return
            await self.reload_if_changed()
            await self.step(self.event_for(line))

    async def reload_if_changed(self) -> None:
        """Live reload: a saved change to the flows is used from the next reply on."""
        if self.watcher is None or not self.watcher.changed():
            return
        await self.watcher.settled()
        outcome = await asyncio.to_thread(self.watcher.load)
        if isinstance(outcome, Version):
            self.engine = Engine(outcome.project, self.engine.bot.id, outcome.translator)
            self.stdout.write("(the flows changed: using the new version)\n")
        else:
            self.stdout.write("(the flows changed, but the change has errors; still using the previous version)\n")
            for line in outcome:
                self.stdout.write(f"{line}\n")


def default_first_name() -> str:
    try:
        return getpass.getuser().capitalize()
    except (KeyError, OSError):  # no user database entry (containers)
        return ""
