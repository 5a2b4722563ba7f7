"""`bots db backup FILE` and `bots db restore FILE`: their arguments and what they print."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bots.ops.backup import BackupError, Copied, backup, is_postgres, restore

URL_ENV = "BOTS_DATABASE_URL"
POSTGRES_ADVICE = (
    "bots db {command} copies SQLite files; this database is PostgreSQL: use pg_dump / pg_restore "
    "(see docs/operations.md, 'Backups')"
)


def add_backup_parsers(db: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `backup` and `restore` to the `bots db` command group."""
    taking = db.add_parser("backup", help="copy the live SQLite database to FILE, still encrypted (mode 0600)")
    taking.add_argument("file", metavar="FILE", help="the backup to write (replaced if it exists)")
    taking.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    taking.set_defaults(func=cmd_backup)

    putting = db.add_parser("restore", help="put a backup in place of the database (the bots stopped)")
    putting.add_argument("file", metavar="FILE", help="a backup made by 'bots db backup'")
    putting.add_argument("--db", help="the database file to restore into (default: $BOTS_DB or ./bots.db)")
    putting.add_argument(
        "--force", action="store_true", help="replace a database that holds data (it is kept beside it as .replaced-<time>)"
    )
    putting.add_argument("--insecure-dev", action="store_true", help="the backup uses the public development key")
    putting.set_defaults(func=cmd_restore)


def _sqlite_file(args: argparse.Namespace, command: str) -> Path | None:
    location = args.db or os.environ.get(URL_ENV) or os.environ.get("BOTS_DB") or "bots.db"
    if is_postgres(location):
        print(f"bots: {POSTGRES_ADVICE.format(command=command)}", file=sys.stderr)
        return None
    return Path(location)


def _size(copied: Copied) -> str:
    return f"{copied.size / 1_000_000:.1f} MB" if copied.size >= 100_000 else f"{copied.size / 1000:.0f} kB"


def cmd_backup(args: argparse.Namespace) -> int:
    database = _sqlite_file(args, "backup")
    if database is None:
        return 2
    try:
        copied = backup(database, Path(args.file))
    except (BackupError, OSError) as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    print(
        f"wrote {copied.path} ({_size(copied)}, {copied.conversations} conversation(s)), encrypted as the database is; "
        f"it is readable only with the same BOTS_SECRET_KEY: keep the key elsewhere",
        file=sys.stderr,
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from bots.cli import _vault

    database = _sqlite_file(args, "restore")
    if database is None:
        return 2
    vault = _vault(args.insecure_dev, "bots db restore")
    if isinstance(vault, int):
        return vault
    try:
        copied = restore(Path(args.file), database, vault, force=args.force)
    except (BackupError, OSError) as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    if copied.replaced is not None:
        print(f"the database that was there is kept as {copied.replaced}: delete it once all is well", file=sys.stderr)
    print(
        f"restored {args.file} into {copied.path} ({copied.conversations} conversation(s)); "
        "run 'bots db upgrade' if the backup is from an older version, then start the bots",
        file=sys.stderr,
    )
    return 0
