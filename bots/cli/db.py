"""`bots db status | upgrade | copy FROM TO | rekey`: the database's version, its upgrade,
moving a deployment between SQLite and PostgreSQL, and moving it to a new secret key."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bots.storage import StoreError, database_location, redacted, store_at
from bots.storage.schema import LATEST

DB_HELP = "the database: a SQLite file or a postgresql:// URL (default: $BOTS_DATABASE_URL, $BOTS_DB or ./bots.db)"


def add_db_parsers(db: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `status`, `upgrade`, `copy` and `rekey` to the `bots db` command group."""
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


def _vault(args: argparse.Namespace, command: str):  # -> Vault | int
    from bots.cli import _vault as vault_of

    return vault_of(args.insecure_dev, command)


def cmd_status(args: argparse.Namespace) -> int:
    from bots.storage.admin import status

    vault = _vault(args, "bots db status")
    if isinstance(vault, int):
        return vault
    try:
        found = asyncio.run(status(store_at(database_location(args.db), vault)))
    except StoreError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    print("\n".join(found.lines()))
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from bots.storage.admin import upgrade

    vault = _vault(args, "bots db upgrade")
    if isinstance(vault, int):
        return vault
    location = database_location(args.db)
    try:
        before, after = asyncio.run(upgrade(store_at(location, vault)))
    except StoreError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    if before == after:
        print(f"{redacted(location)}: schema version {after}, already up to date")
    elif before == 0:
        print(f"{redacted(location)}: created at schema version {after}")
    else:
        print(f"{redacted(location)}: upgraded from schema version {before} to {after}")
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    from bots.storage.admin import copy

    vault = _vault(args, "bots db copy")
    if isinstance(vault, int):
        return vault
    if args.source == args.target:
        print("bots: FROM and TO are the same database", file=sys.stderr)
        return 2

    def progress(table: str, count: int) -> None:
        if count and count % 10_000 == 0:
            print(f"  {table}: {count} rows", file=sys.stderr)

    try:
        copied = asyncio.run(copy(store_at(args.source, vault), store_at(args.target, vault), progress=progress))
    except StoreError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    total = sum(copied.values())
    listed = ", ".join(f"{count} {table}" for table, count in copied.items() if count) or "no rows"
    print(f"copied {redacted(args.source)} to {redacted(args.target)} (schema version {LATEST}): {total} rows ({listed})")
    print("the copy opens with the same BOTS_SECRET_KEY; point BOTS_DATABASE_URL (or --db) at it before 'bots run'")
    return 0


def cmd_rekey(args: argparse.Namespace) -> int:
    import os

    from bots.privacy.vault import ENV, WeakKey, parse_key
    from bots.storage.rekey import rekey

    var = args.new_key_env
    if var == ENV:
        print(f"bots: {ENV} holds the old key; put the new one in another variable (--new-key-env NEW_KEY)", file=sys.stderr)
        return 2
    text = os.environ.get(var, "")
    if not text.strip():
        print(f"bots: {var} is not set: put the new key in it (make one with 'bots keygen')", file=sys.stderr)
        return 2
    try:
        new_master = parse_key(text, var)
    except WeakKey as err:
        print(f"bots: {err}", file=sys.stderr)
        return 2
    vault = _vault(args, "bots db rekey")
    if isinstance(vault, int):
        return vault
    location = database_location(args.db)
    try:
        done = asyncio.run(rekey(store_at(location, vault), new_master, force=args.force))
    except StoreError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    print("\n".join(done.lines()))
    print(
        f"next: set {ENV} to the new key (in /etc/bots/bots.env or .env), then start the bots; "
        "backups made before now still need the old key"
    )
    return 0
