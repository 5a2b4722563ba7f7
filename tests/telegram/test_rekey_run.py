"""`bots db rekey` between two runs of `bots run`: the old key is refused, and with the new
one a person's conversation goes on where it was."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bots.privacy.vault import new_key
from bots.testing.standin import BotApiStandin
from tests.telegram.conftest import SECRET_KEY, BotProcess


async def test_the_conversation_goes_on_with_the_new_key_and_the_old_one_is_refused(
    api: BotApiStandin, project: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bots.db"
    before = await BotProcess(project, api, db).start()
    alice = api.user("Alice", language_code="en")
    await api.send_text(alice, "/start")
    [question] = await api.wait_for_messages(alice, 1, timeout=15)
    await api.press(alice, question, "Blue")
    [size] = await api.wait_for_messages(alice, 1, timeout=10)
    assert size.text == "Size for blue?"
    code, errors = await before.stop()
    assert code == 0, errors

    new = new_key()
    rekey = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "db",
        "rekey",
        "--new-key-env",
        "NEW_KEY",
        "--db",
        str(db),
        env={**os.environ, "BOTS_SECRET_KEY": SECRET_KEY, "NEW_KEY": new},
        cwd=project,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(rekey.communicate(), 60)
    assert rekey.returncode == 0, err.decode()
    assert out.decode().startswith(f"rekeyed {db} (sqlite) in ")

    old = BotProcess(project, api, db)  # BOTS_SECRET_KEY: still the old key
    code, errors = await (await old.start()).wait()
    assert code == 1 and "was written with another secret key and cannot be read with this BOTS_SECRET_KEY" in errors

    after = await BotProcess(project, api, db, env={"BOTS_SECRET_KEY": new}).start()
    await api.send_text(alice, "7")
    messages = await api.wait_for_messages(alice, 5, timeout=15)
    assert messages[0].text == "Here is the guide." and messages[4].text == "Saved 7 blue."
    code, errors = await after.stop()
    assert code == 0, errors
