"""`bots i18n extract|update|compile|status`: the translation workflow, on Babel.

    bots i18n extract   write locales/<domain>.pot from the YAML and the engine's texts
    bots i18n update    extract, then merge each .pot into locales/<lang>/LC_MESSAGES/<domain>.po
    bots i18n compile   compile every .po into its .mo (fuzzy entries left out)
    bots i18n status    translated / fuzzy / missing per domain and language

The catalogs themselves are `bots.i18n.catalogs`; what `status` counts, `bots.i18n.workflow`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bots.cli.common import project_root
from bots.i18n.catalogs import Written, all_po_files, compile_po, update_domain, write_template
from bots.i18n.domains import Domain, DomainClash, Usage, find_domains
from bots.i18n.translations import CatalogError
from bots.i18n.workflow import status_rows
from bots.loader import load_project

if TYPE_CHECKING:
    from bots.cli.common import Commands
    from bots.engine.project import Project


def add_parsers(commands: Commands) -> None:
    """Add `i18n` and its four actions; the project folder is `--project`, else found from here."""
    i18n = commands.add_parser("i18n", help="translations: extract texts, update and compile the .po files, status")
    actions = i18n.add_subparsers(dest="i18n_command", required=True, metavar="ACTION")
    actions.add_parser("extract", help="write locales/<domain>.pot from flows, catalogs and the engine's texts").set_defaults(
        func=cmd_extract
    )
    actions.add_parser(
        "update", help="extract, then merge into locales/<lang>/LC_MESSAGES/<domain>.po for every offered language"
    ).set_defaults(func=cmd_update)
    actions.add_parser("compile", help="compile every .po into its .mo (fuzzy entries are left out)").set_defaults(
        func=cmd_compile
    )
    actions.add_parser("status", help="translated, fuzzy and missing texts per domain and language").set_defaults(func=cmd_status)


def _shown(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, else in full."""
    here = Path.cwd()
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


def _project(root: Path, *, strict: bool) -> tuple[Project, list[Domain]] | None:
    """The project and its domains; None (after saying why) when it cannot be used."""
    project, diagnostics = load_project(root)
    if diagnostics.errors:
        stream = sys.stderr
        if strict:
            for diagnostic in diagnostics.sorted():
                if diagnostic.severity == "error":
                    print(diagnostic.render(), file=stream)
            print(f"bots: {len(diagnostics.errors)} error(s) in the flows; fix them first (see 'bots check')", file=stream)
            return None
        print(
            f"bots: {len(diagnostics.errors)} error(s) in the flows: broken nodes are not counted (see 'bots check')",
            file=stream,
        )
    try:
        return project, find_domains(root, project)
    except DomainClash as err:  # status 1 for extract and update, 0 for status: each says
        print(f"bots: {err}", file=sys.stderr)
        return None


def _state(written: Written) -> str:
    return "new" if written.created else ("updated" if written.changed else "unchanged")


def cmd_extract(args: argparse.Namespace) -> int:
    """Write `locales/<domain>.pot` for every domain."""
    root = project_root(args.project)
    loaded = _project(root, strict=True)
    if loaded is None:
        return 1
    for domain in loaded[1]:
        written = write_template(domain, root / "locales")
        print(f"{_shown(written.path)}: {written.counts.total} texts ({_state(written)})")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Extract, then merge every template into each language's `.po` (creating missing ones).
    A `.po` that cannot be read is a CatalogError, which reaches `main`: one line, status 1."""
    root = project_root(args.project)
    loaded = _project(root, strict=True)
    if loaded is None:
        return 1
    project, domains = loaded
    locales = root / "locales"
    usage = Usage(project, domains)
    for domain in domains:
        write_template(domain, locales)
        for written in update_domain(domain, usage.domain_languages(domain), locales):
            figures = written.counts
            print(
                f"{_shown(written.path)}: {figures.translated} translated, {figures.fuzzy} fuzzy, "
                f"{figures.missing} missing ({_state(written)})"
            )
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    """Compile every `.po` under `locales/` into its `.mo`; exit 1 if one does not parse."""
    root = project_root(args.project)
    files = all_po_files(root / "locales")
    if not files:
        print("no translations to compile (run 'bots i18n update' first)")
        return 0
    failed = 0
    for po in files:
        try:
            written = compile_po(po)
        except CatalogError as err:  # said, and the others compiled all the same
            print(f"bots: {err}", file=sys.stderr)
            failed += 1
            continue
        figures = written.counts
        left_out = f", {figures.fuzzy} fuzzy left out" if figures.fuzzy else ""
        print(f"{_shown(written.path)}: {figures.translated} of {figures.total} texts{left_out} ({_state(written)})")
    return 1 if failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print translated / fuzzy / missing per domain and language; always exits 0."""
    root = project_root(args.project)
    loaded = _project(root, strict=False)
    if loaded is None:
        return 0
    rows = status_rows(root, *loaded)
    if not rows:
        print("no bot offers a language other than its source language: nothing to translate")
        return 0
    width = max(len("domain"), *(len(row.domain) for row in rows))
    print(f"{'domain':<{width}}  language  translated  fuzzy  missing  total")
    for row in rows:
        c = row.counts
        figures = f"{c.translated:>10}  {c.fuzzy:>5}  {c.missing:>7}  {c.total:>5}"
        print(f"{row.domain:<{width}}  {row.language:<8}  {figures}  {row.note}".rstrip())
    return 0
