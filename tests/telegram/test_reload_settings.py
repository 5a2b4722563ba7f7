"""Live reload of `bot.yaml` during `bots run`: every setting goes live, not only the flows'.

`tests/telegram/test_reload.py` follows the flows; here the bot's own settings change while it
runs: the commands in Telegram's menu (`exit_command:`), the moderators' language
(`moderators_locale:`), the time zone their cards use (`hours:`) and flood control (`flood:`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bots.engine.texts import BUILTIN
from bots.i18n.catalogs import compile_po
from bots.testing.standin import BotApiStandin
from tests.support.project import add_to_bot_yaml
from tests.support.standin import escalate

REPO = Path(__file__).resolve().parents[2]
RELOADED = "reloaded the flows after a change"  # logged once a change is live (with -v)
ALWAYS_OPEN = 'hours:\n  timezone: Europe/Minsk\n  days: [mon, tue, wed, thu, fri, sat, sun]\n  from: "00:00"\n  to: "24:00"\n'


def commands(api: BotApiStandin, lang: str = "") -> list[str]:
    return [c["command"] for c in api.commands(language_code=lang)]


async def test_a_changed_bot_yaml_goes_live_whole(api: BotApiStandin, desk, desk_project: Path) -> None:
    catalogs = desk_project / "locales/ru/LC_MESSAGES"  # the built-in texts in Russian, for the moderators
    catalogs.mkdir(parents=True)
    compile_po(Path(shutil.copy(REPO / "locales/ru/LC_MESSAGES/bots.po", catalogs / "bots.po")))
    anna = api.user("Anna")
    group = api.supergroup("Moderators", forum=True, members=[anna])
    process = desk(group.id)
    process.global_args = ("-v",)
    bot = await process.start()
    olga = api.user("Olga")
    await api.send_text(olga, "/start")  # answered: the bot runs, and watches its files
    await api.wait_for_messages(olga, 1, timeout=15)
    assert commands(api)[-1] == commands(api, "ru")[-1] == "x"

    # the quick exit renamed, the moderators in Russian, their times in Minsk's
    bot_yaml = desk_project / "flows/demo/bot.yaml"
    first = bot_yaml.read_text()
    bot_yaml.write_text(first + "exit_command: leave\nmoderators_locale: ru\n" + ALWAYS_OPEN)
    await bot.logged(RELOADED, 1)
    await api.wait_until(lambda: commands(api)[-1:] == ["leave"], timeout=10)
    assert commands(api, "en")[-1] == commands(api, "ru")[-1] == "leave" and "x" not in commands(api, "ru")
    alice = api.user("Alice")
    await escalate(api, alice)
    topic = await api.wait_until(lambda: next(iter(api.topics(group)), None), timeout=10)
    [card] = await api.wait_for_messages(group, 1, topic=topic, timeout=10)
    assert "Новый разговор: Help: Minsk" in card.text
    assert "+0300" in card.text and "UTC" not in card.text

    # flood control: two messages a minute now, not twenty (and what waits for a restart says so)
    add_to_bot_yaml(desk_project, "flood: {messages: 2, seconds: 60, pause: 300}\nretention_days: 60\n")
    await bot.logged(RELOADED, 2)
    flo = api.user("Flo")
    for _ in range(3):
        await api.send_text(flo, "/start")
    slow_down = await api.wait_until(
        lambda: next((m for m in api.messages(flo) if m.text == BUILTIN["flood_slow_down"]), None), timeout=10
    )
    assert slow_down.from_bot

    code, logs = await bot.stop()
    assert code == 0, logs
    assert "could not register commands" not in logs
    assert "demo: retention_days changed in bot.yaml: it takes effect when the bot is started again" in logs
