"""What `bots i18n status` counts: per domain and language, the current sources against the
language's `.po` (the command itself, and `extract`, `update` and `compile`, are
`bots.cli.i18n`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bots.engine.project import Project
from bots.i18n.catalogs import Counts, count, existing_languages, extract_domain, po_path, same_entries
from bots.i18n.domains import Domain, Usage
from bots.i18n.translations import CatalogError, read_catalog


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
