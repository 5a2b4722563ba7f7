"""The bot's commands in Telegram's menu, in each of its languages, kept as bot.yaml says."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bots.engine.i18n import Translator
from bots.engine.model import BotConfig
from bots.engine.texts import BUILTIN, BUILTIN_CONTEXT

log = logging.getLogger(__name__)

COMMANDS = ("start", "back", "help", "language", "subscribe", "unsubscribe", "forget")
HANDOFF_COMMANDS = COMMANDS + ("end",)


def command_lists(config: BotConfig, translator: Translator, *, handoffs: bool) -> dict[str, list[BotCommand]]:
    """The commands in Telegram's menu, in each language of the bot (the first language's
    also for everyone else); `/end` where people can reach a person (`handoffs`)."""
    names = (HANDOFF_COMMANDS if handoffs else COMMANDS) + (config.exit_command,)
    return {
        lang: [
            BotCommand(
                name,
                translator.translate(
                    lang, BUILTIN["command_exit" if name == config.exit_command else f"command_{name}"], BUILTIN_CONTEXT
                ),
            )
            for name in names
        ]
        for lang in config.locales
    }


class CommandMenu:
    """What Telegram was given as the bot's commands, and giving it anew after a change."""

    def __init__(self, bot_id: str, bot: Bot) -> None:
        self.bot_id = bot_id
        self.bot = bot
        self.registered: dict[str, list[BotCommand]] = {}  # the command lists Telegram was given
        self._registering: asyncio.Task[None] | None = None  # after a reload changed them

    async def register(self, config: BotConfig, translator: Translator, *, handoffs: bool) -> None:
        """Give Telegram the bot's commands; a language no longer offered loses its own."""
        lists = command_lists(config, translator, handoffs=handoffs)
        gone = [lang for lang in self.registered if lang not in lists]
        self.registered = lists
        for lang in gone:
            try:
                await self.bot.delete_my_commands(language_code=lang)
            except TelegramError as err:
                log.warning("%s: could not remove the commands for %s: %s", self.bot_id, lang, type(err).__name__)
        for index, (lang, commands) in enumerate(lists.items()):
            try:
                await self.bot.set_my_commands(commands, language_code=lang)
                if index == 0:
                    await self.bot.set_my_commands(commands)
            except TelegramError as err:
                log.warning("%s: could not register commands for %s: %s", self.bot_id, lang, type(err).__name__)

    def update(self, config: BotConfig, translator: Translator, *, handoffs: bool) -> None:
        """A reload: register again (in the background, one at a time, in the order of the
        changes) if the lists changed."""
        if command_lists(config, translator, handoffs=handoffs) == self.registered:
            return
        previous = self._registering

        async def again() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await self.register(config, translator, handoffs=handoffs)

        self._registering = asyncio.create_task(again())

    async def settled(self) -> None:
        """Wait for a registration still under way (the bot is stopping)."""
        if self._registering is not None:
            await asyncio.gather(self._registering, return_exceptions=True)
