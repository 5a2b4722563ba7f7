"""`bots i18n extract|update|compile|status`: the translation workflow, on Babel.

    bots i18n extract   write locales/<domain>.pot from the YAML and the engine's texts
    bots i18n update    extract, then merge each .pot into locales/<lang>/LC_MESSAGES/<domain>.po
    bots i18n compile   compile every .po into its .mo (fuzzy entries left out)
    bots i18n status    translated / fuzzy / missing per domain and language

`bots.cli` registers the command with `add_i18n_parser`; `main` runs it on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.engine.project import Project
from bots.i18n.catalogs import (
    Counts,
    Written,
    all_po_files,
    compile_po,
    count,
    existing_languages,
    extract_domain,
    po_path,
    same_entries,
    update_domain,
    write_template,
)
from bots.i18n.domains import Domain, DomainClash, Usage, find_domains
from bots.i18n.translations import CatalogError, read_catalog
from bots.loader import find_root, load_project


def _root(args: argparse.Namespace) -> Path:
    option = getattr(args, "project", None)
    return Path(option) if option else (find_root(Path.cwd()) or Path.cwd())


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
    except DomainClash as err:
        print(f"bots: {err}", file=sys.stderr)
        return None


def _state(written: Written) -> str:
    return "new" if written.created else ("updated" if written.changed else "unchanged")


def cmd_extract(args: argparse.Namespace) -> int:
    """Write `locales/<domain>.pot` for every domain."""
    root = _root(args)
    loaded = _project(root, strict=True)
    if loaded is None:
        return 1
    for domain in loaded[1]:
        written = write_template(domain, root / "locales")
        print(f"{_shown(written.path)}: {written.counts.total} texts ({_state(written)})")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Extract, then merge every template into each language's `.po` (creating missing ones)."""
    root = _root(args)
    loaded = _project(root, strict=True)
    if loaded is None:
        return 1
    project, domains = loaded
    locales = root / "locales"
    usage = Usage(project, domains)
    try:
        for domain in domains:
            write_template(domain, locales)
            for written in update_domain(domain, usage.domain_languages(domain), locales):
                figures = written.counts
                print(
                    f"{_shown(written.path)}: {figures.translated} translated, {figures.fuzzy} fuzzy, "
                    f"{figures.missing} missing ({_state(written)})"
                )
    except CatalogError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    """Compile every `.po` under `locales/` into its `.mo`; exit 1 if one does not parse."""
    root = _root(args)
    files = all_po_files(root / "locales")
    if not files:
        print("no translations to compile (run 'bots i18n update' first)")
        return 0
    failed = 0
    for po in files:
        try:
            written = compile_po(po)
        except CatalogError as err:
            print(f"bots: {err}", file=sys.stderr)
            failed += 1
            continue
        figures = written.counts
        left_out = f", {figures.fuzzy} fuzzy left out" if figures.fuzzy else ""
        print(f"{_shown(written.path)}: {figures.translated} of {figures.total} texts{left_out} ({_state(written)})")
    return 1 if failed else 0


@dataclass(frozen=True)
class StatusRow:
    """The figures of one domain in one language, and what to do about them."""

    domain: str
    language: str
    counts: Counts
    note: str = ""


def status_rows(root: Path, project: Project, domains: list[Domain]) -> list[StatusRow]:
    """One row per domain and language: the current sources against the language's `.po`."""
    locales = root / "locales"
    usage = Usage(project, domains)
    rows: list[StatusRow] = []
    for domain in domains:
        try:
            template = extract_domain(domain)
        except ValueError as err:  # a file that is not YAML: `bots check` tells more
            print(f"bots: {domain.name}: {err}", file=sys.stderr)
            continue
        languages = dict.fromkeys([*usage.domain_languages(domain), *existing_languages(locales, domain.name)])
        for lang in languages:
            path = po_path(locales, lang, domain.name)
            note = ""
            catalog = None
            if not path.exists():
                note = "no .po file: run 'bots i18n update'"
            else:
                try:
                    catalog = read_catalog(path, lang, domain.name)
                except CatalogError as err:
                    note = f"does not parse: {err.__cause__ or err}"
                if catalog is not None and not same_entries(template, catalog):
                    note = "texts changed since the last update: run 'bots i18n update'"
            rows.append(StatusRow(domain.name, lang, count(template, catalog), note))
    return rows


def cmd_status(args: argparse.Namespace) -> int:
    """Print translated / fuzzy / missing per domain and language; always exits 0."""
    root = _root(args)
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


def add_i18n_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `i18n` and its four actions on `subparsers` (from `add_subparsers`).

    Each action sets `func(args) -> int`; the project folder is `args.project` if the
    parent parser has `--project`, else found from the current folder.
    """
    i18n = subparsers.add_parser("i18n", help="translations: extract texts, update and compile the .po files, status")
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
    return i18n


def main(argv: Sequence[str] | None = None) -> int:
    """Run `bots i18n ...` on its own: `main(["--project", "DIR", "i18n", "status"])`."""
    parser = argparse.ArgumentParser(prog="bots")
    parser.add_argument("--project", metavar="DIR", help="the project folder")
    add_i18n_parser(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
