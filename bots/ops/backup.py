"""`bots db backup` and `bots db restore`: consistent copies of a SQLite database, still sealed.

A backup is taken with SQLite's online backup API in one step: a snapshot of one instant,
while `bots run` goes on writing (WAL readers do not stop writers). It is the database's own
pages, so everything sealed stays sealed and chats stay under their keyed hashes: a backup
is as useless without `BOTS_SECRET_KEY` as the database is (keep the key out of the backups).
It needs no key to be taken, so a cron job need not hold one. The copy is written beside
its final name with mode 0600, checked (`quick_check`), made a single file (no `-wal`), and
only then renamed into place: a half-written backup never carries the final name.

A restore refuses, before touching anything:
- a file that is not a database of these bots, or is damaged;
- a file made with another key (the sealed key-check value in its `meta` table does not
  open with this one): restored, it would be unreadable;
- a database that a running process has open (stop the bots first), whatever `--force` says;
- a database that holds anything, unless `--force`; then the replaced one is kept beside it
  (`<name>.replaced-<UTC time>`) until the operator deletes it.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bots.errors import BotsError
from bots.privacy.vault import SealBroken, Vault
from bots.storage.sqlite import KEY_CHECK

__all__ = ["BackupError", "Copied", "backup", "restore"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class BackupError(BotsError):
    """The backup or restore cannot be done; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class Copied:
    """What was written: where, how big, how many conversations it holds."""

    path: Path
    size: int
    conversations: int
    replaced: Path | None = None  # the database a forced restore moved aside


def is_postgres(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    return sqlite3.connect(path, timeout=5)


def _key_check(db: sqlite3.Connection, name: Path, *, sound: bool = True) -> bytes:
    """The sealed key-check value, after making sure `db` is a database of these bots (and,
    with `sound`, an undamaged one: a live database is not read twice, its copy is checked)."""
    try:
        verdict = db.execute("PRAGMA quick_check").fetchone() if sound else ("ok",)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{name} is not a database of these bots ({err})") from None
    if not verdict or verdict[0] != "ok":
        raise BackupError(f"{name} is damaged (quick_check: {verdict[0] if verdict else 'no answer'})")
    row = db.execute("SELECT value FROM meta WHERE name = ?", (KEY_CHECK,)).fetchone() if "meta" in tables else None
    if row is None:
        raise BackupError(f"{name} is not a database of these bots (it has no key check)")
    return bytes(row[0])


def _conversations(db: sqlite3.Connection) -> int:
    try:
        return int(db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0


def _rows(db: sqlite3.Connection) -> int:
    """Rows about people or their messages: anything but the database's own `meta`."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return sum(int(db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]) for table in tables if table != "meta")


def _private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 (whatever the umask), refusing one that exists."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy(source: sqlite3.Connection, target: Path, *, journal: str) -> None:
    """`source` into the new private file `target`, in one step, checked, on disk."""
    _private_file(target)
    try:
        copy = _connect(target)
        try:
            source.backup(copy)  # all pages in one step: one consistent snapshot
            copy.execute(f"PRAGMA journal_mode={journal}")
            verdict = copy.execute("PRAGMA quick_check").fetchone()
        finally:
            copy.close()
        if not verdict or verdict[0] != "ok":
            raise BackupError(f"the copy in {target} did not check out ({verdict[0] if verdict else 'no answer'})")
        _fsync(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _partial(final: Path) -> Path:
    return final.with_name(f".{final.name}.partial-{os.getpid()}")


def backup(database: Path, destination: Path) -> Copied:
    """Copy the live SQLite `database` to `destination` (replaced if it exists)."""
    if not database.is_file():
        raise BackupError(f"{database}: no such database (give it with --db or BOTS_DB)")
    if destination.exists() and destination.resolve() == database.resolve():
        raise BackupError(f"{destination} is the database itself: give the backup another name")
    if destination.is_dir():
        raise BackupError(f"{destination} is a folder: give the backup a file name, e.g. {destination / 'bots.db'}")
    if not destination.parent.is_dir():
        raise BackupError(f"{destination.parent}: no such folder")
    source = _connect(database)
    try:
        _key_check(source, database, sound=False)
        partial = _partial(destination)
        partial.unlink(missing_ok=True)  # left by a backup that was killed
        _copy(source, partial, journal="DELETE")
        conversations = _conversations(source)
    finally:
        source.close()
    os.replace(partial, destination)
    _fsync(destination.parent)
    return Copied(destination, destination.stat().st_size, conversations)


def in_use(database: Path) -> bool:
    """Whether another connection has `database` open (a running `bots run`, `bots chat`...).

    In WAL mode each open connection keeps a shared lock; an exclusive one is then refused.
    """
    probe = sqlite3.connect(database, timeout=0)
    try:
        probe.execute("PRAGMA locking_mode=EXCLUSIVE")
        probe.execute("BEGIN EXCLUSIVE")
        probe.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def restore(backup_file: Path, database: Path, vault: Vault, *, force: bool = False, now: dt.datetime | None = None) -> Copied:
    """Put the backup in place of `database`, after the checks in the module's docstring."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such file")
    if database.exists() and backup_file.resolve() == database.resolve():
        raise BackupError(f"{backup_file} is the database itself")
    source = _connect(backup_file, read_only=True)
    try:
        sealed = _key_check(source, backup_file)
        try:
            vault.open(sealed, KEY_CHECK)
        except SealBroken:
            which = "the development key" if vault.development else "this BOTS_SECRET_KEY"
            raise BackupError(
                f"{backup_file} was made with another secret key and cannot be read with {which}: "
                "set BOTS_SECRET_KEY to the key it was made with, then restore again"
            ) from None
        holds = _check_room(database, force=force)
        database.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial(database)
        partial.unlink(missing_ok=True)
        _copy(source, partial, journal="WAL")  # the copy first: a failure leaves the database as it was
        conversations = _conversations(source)
    finally:
        source.close()
    replaced = None
    if holds:
        replaced = database.with_name(
            f"{database.name}.replaced-{(now or dt.datetime.now(dt.timezone.utc)).strftime('%Y%m%dT%H%M%SZ')}"
        )
        os.replace(database, replaced)
        os.chmod(replaced, 0o600)
    for suffix in ("-wal", "-shm"):  # never let an old write-ahead log be applied to the restored file
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.replace(partial, database)
    _fsync(database.parent)
    return Copied(database, database.stat().st_size, conversations, replaced)


def _check_room(database: Path, *, force: bool) -> bool:
    """Whether `database` holds anything (to be kept aside); refuses one in use, or holding
    anything without `force`. Its write-ahead log, if any, is folded into it first."""
    if not database.exists():
        return False
    if in_use(database):
        raise BackupError(f"{database} is open in a running process: stop the bots first, then restore")
    current = _connect(database)
    try:
        try:
            rows = _rows(current)
            current.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # what its log holds goes into the file
        except sqlite3.DatabaseError:
            rows = -1  # not a database we can read: treated as holding something
        if rows and not force:
            what = "holds data" if rows < 0 else f"holds {_conversations(current)} conversation(s) and other rows"
            raise BackupError(
                f"{database} {what}: restoring would replace it. Move it away first, "
                "or pass --force (it is then kept beside it, as a .replaced file, until you delete it)"
            )
    finally:
        current.close()
    return rows != 0
