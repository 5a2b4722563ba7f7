"""Fixtures for the Bot API stand-in tests: a running stand-in and a PTB Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bots.testing.standin import BotApiStandin

TOKEN = "111:AAA-standin-test"
OTHER_TOKEN = "222:BBB-standin-test"


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (an error under ``filterwarnings = error``) when time periods are read as ints."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandin]:
    """A stand-in on 127.0.0.1 with one bot; fast webhook retries."""
    async with BotApiStandin(tokens=[TOKEN], webhook_retry_delay=0.05, webhook_retry_max=0.2) as standin:
        yield standin


@pytest.fixture
async def bot(api: BotApiStandin) -> AsyncIterator[Bot]:
    """An initialised python-telegram-bot Bot talking to the stand-in over HTTP."""
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as ptb:
        yield ptb
