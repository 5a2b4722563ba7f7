"""`bots db rekey` between two runs of `bots run`: the old key is refused, and with the new
one a person's conversation goes on where it was."""

from __future__ import annotations

from pathlib import Path

from bots.privacy.vault import new_key
from bots.testing.standin import BotApiStandin
from tests.support.commands import BotProcess, bots_env, run_bots_async
from tests.support.standin import greeting


async def test_the_conversation_goes_on_with_the_new_key_and_the_old_one_is_refused(
    api: BotApiStandin, project: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bots.db"
    before = await BotProcess(project, api, db).start()
    alice = api.user("Alice", language_code="en")
    question = await greeting(api, alice)
    await api.press(alice, question, "Blue")
    [size] = await api.wait_for_messages(alice, 1, timeout=10)
    assert size.text == "Size for blue?"
    code, errors = await before.stop()
    assert code == 0, errors

    new = new_key()
    code, out, err = await run_bots_async(
        "db", "rekey", "--new-key-env", "NEW_KEY", "--db", str(db), cwd=project, env=bots_env(NEW_KEY=new)
    )
    assert code == 0, err
    assert out.startswith(f"rekeyed {db} (sqlite) in ")

    old = BotProcess(project, api, db)  # BOTS_SECRET_KEY: still the old key
    code, errors = await (await old.start()).wait()
    assert code == 1 and "was written with another secret key and cannot be read with this BOTS_SECRET_KEY" in errors

    after = await BotProcess(project, api, db, env={"BOTS_SECRET_KEY": new}).start()
    await api.send_text(alice, "7")
    messages = await api.wait_for_messages(alice, 5, timeout=15)
    assert messages[0].text == "Here is the guide." and messages[4].text == "Saved 7 blue."
    code, errors = await after.stop()
    assert code == 0, errors
