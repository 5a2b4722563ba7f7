"""`bots db backup` of a live database during `bots run`, and `bots db restore` with its refusals."""

from __future__ import annotations

import stat
from pathlib import Path

from bots.privacy.vault import new_key
from bots.testing.standin import BotApiStandin
from tests.support.commands import bots_env, run_bots_async
from tests.support.standin import greeting


async def bots(project: Path, *args: str, **env: str) -> tuple[int, str]:
    """`bots ARGS` in `project`, with the tests' key unless `env` says otherwise: its exit
    status and what it said on stderr."""
    code, _, err = await run_bots_async(*args, cwd=project, env=bots_env(**env))
    return code, err


async def test_a_live_backup_restores_and_the_conversation_goes_on(
    api: BotApiStandin, running, project: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bots.db"
    copy = tmp_path / "backups" / "bots-monday.db"
    copy.parent.mkdir()
    bot = await running(db=db).start()
    alice = api.user("Alice", username="alice_private_handle")
    question = await greeting(api, alice)
    await api.press(alice, question, "Blue")
    [size] = await api.wait_for_messages(alice, 1, timeout=10)
    assert size.text == "Size for blue?"

    # taken while the bots run, without the key
    code, said = await bots(project, "db", "backup", str(copy), "--db", str(db), BOTS_SECRET_KEY="")
    assert code == 0, said
    assert said.startswith(f"wrote {copy} (") and "1 conversation(s)" in said
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert sorted(p.name for p in copy.parent.iterdir()) == ["bots-monday.db"]  # one file, nothing half-written
    content = copy.read_bytes()
    for secret in (b"Alice", b"alice_private_handle", str(alice.id).encode(), b"blue", b"Colour"):
        assert secret not in content, secret  # still sealed

    code, said = await bots(project, "db", "restore", str(copy), "--db", str(db), "--force")
    assert code == 1
    assert said.strip() == f"bots: {db} is open in a running process: stop the bots first, then restore"
    code, errors = await bot.stop()
    assert code == 0, errors

    code, said = await bots(project, "db", "restore", str(copy), "--db", str(db))
    assert code == 1
    assert said.startswith(f"bots: {db} holds 1 conversation(s) and other rows: restoring would replace it.")
    code, said = await bots(project, "db", "restore", str(copy), "--db", str(db), BOTS_SECRET_KEY=new_key())
    assert code == 1
    assert said.startswith(f"bots: {copy} was made with another secret key and cannot be read with this BOTS_SECRET_KEY")

    code, said = await bots(project, "db", "restore", str(copy), "--db", str(db), "--force")
    assert code == 0, said
    [kept] = [p for p in tmp_path.iterdir() if p.name.startswith("bots.db.replaced-")]
    assert f"kept as {kept}" in said and stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert f"restored {copy} into {db} (1 conversation(s))" in said

    # the restored database is the one the bots carry on from
    again = await running(db=db).start()
    await api.send_text(alice, "7")
    messages = await api.wait_for_messages(alice, 5, timeout=15)
    assert messages[0].text == "Here is the guide."
    assert messages[-1].text == "Saved 7 blue."
    code, errors = await again.stop()
    assert code == 0, errors


async def test_restore_refuses_what_is_not_a_backup_and_backup_what_is_not_there(project: Path, tmp_path: Path) -> None:
    stray = tmp_path / "notes.db"
    stray.write_bytes(b"these are not the pages of a database" * 100)
    code, said = await bots(project, "db", "restore", str(stray), "--db", str(tmp_path / "new.db"))
    assert code == 1 and said.startswith(f"bots: {stray} is not a database of these bots")
    assert not (tmp_path / "new.db").exists()

    code, said = await bots(project, "db", "backup", str(tmp_path / "b.db"), "--db", str(tmp_path / "missing.db"))
    assert code == 1 and said.strip() == f"bots: {tmp_path / 'missing.db'}: no such database (give it with --db or BOTS_DB)"

    code, said = await bots(project, "db", "backup", str(tmp_path / "b.db"), BOTS_DATABASE_URL="postgresql://bots@db/bots")
    assert code == 2 and "use pg_dump / pg_restore" in said
