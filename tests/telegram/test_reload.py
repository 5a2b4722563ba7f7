"""Live reload during `bots run`: a good change goes live mid-conversation, a bad one is refused,
a conversation on a removed node starts again kindly."""

from __future__ import annotations

from pathlib import Path

from bots.testing.standin import BotApiStandin
from tests.support.standin import greeting

RELOADED = "reloaded the flows after a change"  # logged once a change is live (with -v)
REFUSED = "a change was refused"


async def test_changes_go_live_bad_ones_are_refused_and_removed_nodes_restart(api: BotApiStandin, running, project: Path) -> None:
    process = running("--pace", "off")
    process.global_args = ("-v",)
    bot = await process.start()
    flow = project / "flows/demo/main.yaml"
    alice, bob = api.user("Alice"), api.user("Bob")
    for who in (alice, bob):
        question = await greeting(api, who)
        assert question.text == f"Hello, {who.first_name}! Colour?"

    # a good change: the next step of a conversation already under way uses it
    flow.write_text(flow.read_text().replace('text: "Size for {{ colour }}?"', 'text: "Which size for {{ colour }}?"'))
    await bot.logged(RELOADED, 1)
    await api.press(alice, api.messages(alice)[0], "Red")
    [size] = await api.wait_for_messages(alice, 1, timeout=10)
    assert size.text == "Which size for red?"

    # a change with an error is refused: the running version stays
    good = flow.read_text()
    flow.write_text(good.replace("next: guide", "next: gide"))
    await bot.logged(REFUSED, 1)
    await api.press(bob, api.messages(bob)[0], "Blue")
    [size] = await api.wait_for_messages(bob, 1, timeout=10)
    assert size.text == "Which size for blue?"

    # a node removed under a waiting conversation: told kindly, started again
    flow.write_text(
        good.replace("    next: size\n", "    next: guide\n")
        .replace(
            '  size:\n    type: input\n    kind: number\n    text: "Which size for {{ colour }}?"\n    save: size\n    next: guide\n',
            "",
        )
        .replace("Saved {{ size }} {{ colour }}.", "Saved {{ colour }}.")
    )
    await bot.logged(RELOADED, 2)
    await api.send_text(alice, "7")
    changed, again = await api.wait_for_messages(alice, 2, timeout=10)
    assert changed.text == "This dialogue has been updated since we last spoke, so let's start again."
    assert again.text == "Hello, Alice! Colour?"

    code, errors = await bot.stop()
    assert code == 0, errors
    assert "a change was refused: 1 error(s); the running version stays" in errors
    assert "flows/demo/main.yaml:" in errors and "'gide'" in errors and "did you mean 'guide'" in errors
    assert errors.count("reloaded the flows after a change") == 2
