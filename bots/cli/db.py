"""`bots db status | upgrade | copy FROM TO | rekey | backup FILE | restore FILE`: the
database's version, its upgrade, moving a deployment between SQLite and PostgreSQL, moving it
to a new secret key, and a SQLite database's backup and its restoring."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bots.cli.common import vault
from bots.errors import BotsError
from bots.storage import database_location, redacted, store_at
from bots.storage.schema import LATEST

if TYPE_CHECKING:
    from bots.cli.common import Commands
    from bots.ops.backup import Copied

DB_HELP = "the database: a SQLite file or a postgresql:// URL (default: $BOTS_DATABASE_URL, $BOTS_DB or ./bots.db)"
URL_ENV = "BOTS_DATABASE_URL"
POSTGRES_ADVICE = (
    "bots db {command} copies SQLite files; this database is PostgreSQL: use pg_dump / pg_restore "
    "(see docs/operations.md, 'Backups')"
)


def add_parsers(commands: Commands) -> None:
    """Add the `bots db` command group: `status`, `upgrade`, `copy`, `rekey`, `backup` and `restore`."""
    group = commands.add_parser("db", help="the database: status, upgrade, copy, rekey, backup, restore")
    db = group.add_subparsers(dest="db_command", required=True, metavar="COMMAND")

    status = db.add_parser("status", help="the database's engine, schema version, key, contents and workers")
    status.add_argument("--db", help=DB_HELP)
    status.add_argument("--insecure-dev", action="store_true", help="check against the public development key")
    status.set_defaults(func=cmd_status)

    upgrade = db.add_parser("upgrade", help="bring the database's schema to this version of bots (back it up first)")
    upgrade.add_argument("--db", help=DB_HELP)
    upgrade.add_argument("--insecure-dev", action="store_true", help="the database uses the public development key")
    upgrade.set_defaults(func=cmd_upgrade)

    copy = db.add_parser("copy", help="copy a whole database into an empty one (SQLite <-> PostgreSQL), with its key")
    copy.add_argument("source", metavar="FROM", help="a SQLite file or a postgresql:// URL")
    copy.add_argument("target", metavar="TO", help="a SQLite file or a postgresql:// URL: must be empty")
    copy.add_argument("--insecure-dev", action="store_true", help="the database uses the public development key")
    copy.set_defaults(func=cmd_copy)

    rekey = db.add_parser(
        "rekey",
        help="re-seal everything under a new BOTS_SECRET_KEY, the old one in BOTS_SECRET_KEY (bots stopped, backup first)",
    )
    rekey.add_argument(
        "--new-key-env",
        metavar="VAR",
        required=True,
        help="the environment variable holding the new key (make one with 'bots keygen')",
    )
    rekey.add_argument("--db", help=DB_HELP)
    rekey.add_argument(
        "--force",
        action="store_true",
        help="even if a worker or a broadcast said it was alive in the last seconds (only when you know they are stopped)",
    )
    rekey.add_argument("--insecure-dev", action="store_true", help="the database uses the public development key (until now)")
    rekey.set_defaults(func=cmd_rekey)

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


# a StoreError (another key, another version, unreachable), a WeakKey and a BackupError reach
# `main`: one line, status 1 (2 for the key)


def cmd_status(args: argparse.Namespace) -> int:
    from bots.storage.admin import status

    store_vault = vault(args.insecure_dev, "bots db status")
    found = asyncio.run(status(store_at(database_location(args.db), store_vault)))
    print("\n".join(found.lines()))
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from bots.storage.admin import upgrade

    store_vault = vault(args.insecure_dev, "bots db upgrade")
    location = database_location(args.db)
    before, after = asyncio.run(upgrade(store_at(location, store_vault)))
    if before == after:
        print(f"{redacted(location)}: schema version {after}, already up to date")
    elif before == 0:
        print(f"{redacted(location)}: created at schema version {after}")
    else:
        print(f"{redacted(location)}: upgraded from schema version {before} to {after}")
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    from bots.storage.admin import copy

    store_vault = vault(args.insecure_dev, "bots db copy")
    if args.source == args.target:
        print("bots: FROM and TO are the same database", file=sys.stderr)
        return 2

    def progress(table: str, count: int) -> None:
        if count and count % 10_000 == 0:
            print(f"  {table}: {count} rows", file=sys.stderr)

    copied = asyncio.run(copy(store_at(args.source, store_vault), store_at(args.target, store_vault), progress=progress))
    total = sum(copied.values())
    listed = ", ".join(f"{count} {table}" for table, count in copied.items() if count) or "no rows"
    print(f"copied {redacted(args.source)} to {redacted(args.target)} (schema version {LATEST}): {total} rows ({listed})")
    print("the copy opens with the same BOTS_SECRET_KEY; point BOTS_DATABASE_URL (or --db) at it before 'bots run'")
    return 0


def cmd_rekey(args: argparse.Namespace) -> int:
    from bots.privacy.vault import ENV, parse_key
    from bots.storage.rekey import rekey

    var = args.new_key_env
    if var == ENV:
        print(f"bots: {ENV} holds the old key; put the new one in another variable (--new-key-env NEW_KEY)", file=sys.stderr)
        return 2
    text = os.environ.get(var, "")
    if not text.strip():
        print(f"bots: {var} is not set: put the new key in it (make one with 'bots keygen')", file=sys.stderr)
        return 2
    new_master = parse_key(text, var)
    store_vault = vault(args.insecure_dev, "bots db rekey")
    location = database_location(args.db)
    done = asyncio.run(rekey(store_at(location, store_vault), new_master, force=args.force))
    print("\n".join(done.lines()))
    print(
        f"next: set {ENV} to the new key (in /etc/bots/bots.env or .env), then start the bots; "
        "backups made before now still need the old key"
    )
    return 0


def _sqlite_file(args: argparse.Namespace, command: str) -> Path:
    """The SQLite file `--db` names (or the environment); `BotsError` (status 2) for PostgreSQL."""
    from bots.ops.backup import is_postgres

    location = args.db or os.environ.get(URL_ENV) or os.environ.get("BOTS_DB") or "bots.db"
    if is_postgres(location):
        raise BotsError(POSTGRES_ADVICE.format(command=command), status=2)
    return Path(location)


def _size(copied: Copied) -> str:
    return f"{copied.size / 1_000_000:.1f} MB" if copied.size >= 100_000 else f"{copied.size / 1000:.0f} kB"


def cmd_backup(args: argparse.Namespace) -> int:
    from bots.ops.backup import backup

    database = _sqlite_file(args, "backup")
    try:
        copied = backup(database, Path(args.file))
    except OSError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    print(
        f"wrote {copied.path} ({_size(copied)}, {copied.conversations} conversation(s)), encrypted as the database is; "
        f"it is readable only with the same BOTS_SECRET_KEY: keep the key elsewhere",
        file=sys.stderr,
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from bots.ops.backup import restore

    database = _sqlite_file(args, "restore")
    store_vault = vault(args.insecure_dev, "bots db restore")
    try:
        copied = restore(Path(args.file), database, store_vault, force=args.force)
    except OSError as err:
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
