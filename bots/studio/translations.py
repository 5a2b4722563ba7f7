"""The translations pane: every text of a bot beside its translations, edited into the `.po` files.

The texts are what `bots i18n` extracts (Babel, from the saved YAML: a text typed but not
saved is not here yet); the translations are the `.po` files of `locales/`. Saving one
translation reads its `.po` with Babel, sets that entry (no longer fuzzy, since a person has
just written it), and writes the catalog back the way `bots i18n update` writes it, so the
next `bots i18n update` changes nothing. An entry the `.po` lacks because `bots i18n update`
has not run since the text was written is added with its place in the flows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message

from bots.engine.project import Project
from bots.i18n.catalogs import extract_domain, new_catalog, po_path, write_if_changed
from bots.i18n.domains import Domain, Usage, bot_languages, find_domains
from bots.i18n.translations import read_catalog


class TranslationRefused(ValueError):
    """The translation cannot be saved (no such domain, language or text); the message says why."""


def bot_domains(root: Path, project: Project, bot: str) -> list[Domain]:
    """The catalogs a conversation with `bot` needs: its own, and the shared flows and catalogs it reaches."""
    domains = find_domains(root, project)
    usage = Usage(project, domains)
    return [d for d in domains if d.kind != "engine" and any(bot in usage.needed.get(f, {}) for f in d.files)]


def _catalog(root: Path, domain: Domain, lang: str) -> Catalog | None:
    path = po_path(root / "locales", lang, domain.name)
    return read_catalog(path, lang, domain.name) if path.exists() else None


def _state(found: Message | None) -> str:
    if found is None or not found.string:
        return "missing"
    return "fuzzy" if found.fuzzy else "translated"


def table_json(root: Path, project: Project, bot: str) -> dict[str, Any]:
    """A row per text: where it is written, the source, and each language's translation and state."""
    config = project.bots[bot].config
    rows: list[dict[str, Any]] = []
    languages = [lang for lang in config.locales if lang != config.source_locale]
    for domain in bot_domains(root, project, bot):
        wanted = bot_languages(project, bot, domain)
        catalogs = {lang: _catalog(root, domain, lang) for lang in wanted}
        for message in extract_domain(domain):
            if not message.id:
                continue
            plural = isinstance(message.id, (list, tuple))
            cells: dict[str, Any] = {}
            for lang, catalog in catalogs.items():
                found = catalog.get(message.id, context=message.context) if catalog is not None else None
                string = found.string if found is not None else ""
                cells[lang] = {
                    "text": " | ".join(string) if isinstance(string, (list, tuple)) else string,
                    "state": _state(found),
                }
            rows.append(
                {
                    "domain": domain.name,
                    "id": " | ".join(message.id) if plural else message.id,
                    "context": message.context,
                    "plural": plural,  # plural forms are edited in the .po file itself
                    "where": [f"{file}:{line}" for file, line in message.locations],
                    "cells": cells,
                }
            )
    return {"source": config.source_locale, "languages": languages, "rows": rows}


def save_translation(
    root: Path, project: Project, domain_name: str, lang: str, message_id: str, context: str | None, text: str
) -> str:
    """Write one translation into `locales/<lang>/LC_MESSAGES/<domain>.po`; the entry's new state."""
    domain = next((d for d in find_domains(root, project) if d.name == domain_name and d.kind != "engine"), None)
    if domain is None:
        raise TranslationRefused(f"no translations called '{domain_name}'")
    if not any(lang in bot_languages(project, b, domain) for b in project.bots if project.bots[b].config.start):
        raise TranslationRefused(f"no bot needs '{domain_name}' in '{lang}'")
    path = po_path(root / "locales", lang, domain.name)
    catalog = read_catalog(path, lang, domain.name) if path.exists() else new_catalog(domain, lang)
    entry = catalog.get(message_id, context=context or None)
    if entry is None:
        source = extract_domain(domain).get(message_id, context=context or None)
        if source is None:
            raise TranslationRefused(f"'{message_id}' is not a text of {domain_name} (save the flow first)")
        entry = catalog.add(
            message_id, text, locations=source.locations, auto_comments=source.auto_comments, context=context or None
        )
    if isinstance(entry.id, (list, tuple)):
        raise TranslationRefused("plural forms are edited in the .po file itself")
    entry.string = text
    entry.flags.discard("fuzzy")
    entry.previous_id = []  # the `#| msgid` of the text it was fuzzily matched from
    write_if_changed(catalog, path, include_previous=True)
    return _state(entry)
