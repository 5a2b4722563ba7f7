"""What the commands share: the project folder, loading it with its diagnostics, the bot
asked for, the vault, the Bot API URL, paths as they are shown, writing to a standard output
whose reader may go away, and `--log-format`.

A helper that finds a command cannot go on raises `BotsError` (`bots.cli.main` prints it and
exits with its status) after printing whatever else the person needs to see.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bots.errors import BotsError
from bots.loader import Diagnostic, find_root, load_project
from bots.loader.diagnostics import suggest

if TYPE_CHECKING:
    from bots.engine import Project
    from bots.privacy.vault import Vault

    #: what `add_subparsers()` returns: each command group's `add_parsers` adds its commands to it
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def project_root(option: str | None) -> Path:
    """`--project`, else the project folder at or above the working folder, else that folder."""
    if option:
        return Path(option)
    return find_root(Path.cwd()) or Path.cwd()


def print_diagnostics(diagnostics: Sequence[Diagnostic], out: object = None) -> None:
    stream = out or sys.stdout
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=stream)  # type: ignore[arg-type]


def load(args: argparse.Namespace) -> Project:
    """The checked project; with errors in it, they are printed and `BotsError` raised."""
    root = project_root(args.project)
    project, diagnostics = load_project(root)
    if diagnostics.errors:
        print_diagnostics(diagnostics.sorted(), sys.stderr)
        raise BotsError(f"{len(diagnostics.errors)} error(s) in the flows; fix them first (see 'bots check')")
    return project


def known_bot(project: Project, bot: str, *, status: int) -> str:
    """`bot` if the project has it (a bot with a start flow); else `BotsError` with `status`,
    naming the bots there are."""
    if bot in project.bots and project.bots[bot].config.start:
        return bot
    names = runnable_bots(project)
    raise BotsError(f"no bot '{bot}'{suggest(bot, names)}; the bots are: {', '.join(names) or 'none'}", status=status)


def runnable_bots(project: Project) -> list[str]:
    """The project's bots that have a start flow, by name."""
    return sorted(b for b, loaded in project.bots.items() if loaded.config.start)


def vault(insecure_dev: bool, command: str) -> Vault:
    """The vault of `BOTS_SECRET_KEY`; without it the development key if `insecure_dev` (said
    on stderr), else `BotsError` (status 2). A weak key raises `WeakKey` (status 2)."""
    from bots.privacy.vault import ENV, Vault

    found = Vault.from_env()
    if found is not None:
        return found
    if not insecure_dev:
        raise BotsError(
            f"{command} needs a secret key to protect what it stores: set {ENV} (make one with 'bots keygen'), "
            "or pass --insecure-dev to try the bots with the public development key",
            status=2,
        )
    print(
        f"bots: no {ENV}: using the local development key; what this database holds is not protected",
        file=sys.stderr,
    )
    return Vault.for_development()


def bot_and_vault(args: argparse.Namespace, command: str) -> tuple[Project, Vault]:
    """The project with `args.bot` checked (status 2 if it has no such bot), and the vault:
    for commands on one bot's data."""
    project = load(args)
    known_bot(project, args.bot, status=2)
    return project, vault(args.insecure_dev, command)


def api_url(args: argparse.Namespace) -> str | None:
    return args.api_url or os.environ.get("TELEGRAM_API_URL") or None


def shown(path: Path) -> str:
    """A path as `bots check` shows files: relative to the working folder if it is inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path.resolve()) if relative.startswith("..") else relative


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """Stop quietly if the reader of standard output went away (`bots graph mara | head`)."""
    try:
        yield
    except BrokenPipeError:  # what is still buffered goes nowhere instead of failing at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def write_out(text: str) -> None:
    """`text` on standard output, quietly stopping if its reader went away."""
    with reader_may_leave():
        sys.stdout.write(text)
        sys.stdout.flush()


def add_log_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="'text' (default) for people; 'json': one JSON object a line, scrubbed the same way",
    )
