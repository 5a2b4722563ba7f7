"""Texts that have no translation in a language their bot offers: warnings for `bots check`."""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.catalog import Catalog

from bots.engine.project import Project
from bots.i18n.catalogs import existing_languages, po_path
from bots.i18n.domains import (
    Domain,
    DomainClash,
    Usage,
    bot_languages,
    find_domains,
    project_bots,
)
from bots.i18n.translations import CatalogError, read_catalog
from bots.loader.yamlsource import YamlError, read_yaml

#: (file, line, column, message), the file as `bots check` shows it
I18nWarning = tuple[str, int, int, str]
Key = tuple[str, str | None]


def _display(path: Path, base: Path | None) -> str:
    try:
        return os.path.relpath(path, base or Path.cwd())
    except ValueError:  # another drive on Windows
        return str(path)


def _translated(catalog: Catalog) -> set[Key]:
    return {(m.id, m.context) for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def _locales_position(path: Path) -> tuple[int, int]:
    try:
        document, _ = read_yaml(path, str(path))
    except (YamlError, OSError):
        return 1, 1
    position = document.source.at(("locales",))
    return position.line, position.column


class _Catalogs:
    """The translated entries of each (domain, language), read once; None when there is no `.po`."""

    def __init__(self, locales: Path, base: Path | None) -> None:
        self.locales = locales
        self.base = base
        self.read: dict[tuple[str, str], set[Key] | None] = {}
        self.broken: list[I18nWarning] = []

    def get(self, domain: str, lang: str) -> set[Key] | None:
        if (domain, lang) not in self.read:
            path = po_path(self.locales, lang, domain)
            found: set[Key] | None = None
            if path.exists():
                try:
                    found = _translated(read_catalog(path, lang, domain))
                except CatalogError as err:
                    reason = err.__cause__ or err
                    message = f"not a valid translation catalog ({reason}); the bots cannot start until it is fixed"
                    self.broken.append((_display(path, self.base), 1, 1, message))
                    found = set()
            self.read[(domain, lang)] = found
        return self.read[(domain, lang)]


def _join(languages: list[str]) -> str:
    return ", ".join(languages)


def missing_translations(project: Project, locales_dir: Path, *, display_base: Path | None = None) -> list[I18nWarning]:
    """Warnings for texts with no (non-fuzzy) translation in a language their bot offers.

    One warning per text, listing the languages it is missing in (`node 'menu': text has no
    translation in be, ru`), at the text's place. A bot offering languages that has no `.po`
    file at all gets one summary warning instead; so does a domain whose `.po` for a language
    its bots need is missing or has nothing translated yet (one warning for those languages).
    Shared flows and catalogs are checked in the languages of the bots that reach them. File names are relative to `display_base`
    (default: the current folder), like the loader's.
    """
    try:
        domains = find_domains(project.root, project)
    except DomainClash as err:
        return [(_display(project.root / "flows", display_base), 1, 1, str(err))]
    by_name = {d.name: d for d in domains}
    warnings: list[I18nWarning] = []
    translated_bots: set[str] = set()
    for bot_id in project_bots(project):
        domain = by_name.get(bot_id)
        if domain is None:
            continue
        offered = bot_languages(project, bot_id, domain)
        if not offered:
            continue
        if existing_languages(locales_dir, bot_id):
            translated_bots.add(bot_id)
            continue
        line, column = _locales_position(domain.files[0])
        message = f"bot '{bot_id}' offers {_join(offered)} but has no translations (run 'bots i18n update')"
        warnings.append((_display(domain.files[0], display_base), line, column, message))
    if not translated_bots:
        return warnings  # nothing to compare: no need to read the files again
    usage = Usage(project, domains)
    catalogs = _Catalogs(locales_dir, display_base)
    #: (domain, whether its .po exists) -> languages with no translated text at all
    untranslated: dict[tuple[str, bool], list[str]] = {}
    for path, found in usage.texts.items():
        domain = usage.domain_of[path]
        needed = usage.needed.get(path, {})
        languages = list(dict.fromkeys(lang for bot_id, langs in needed.items() if bot_id in translated_bots for lang in langs))
        present = []
        for lang in languages:
            translated = catalogs.get(domain.name, lang)
            if translated:
                present.append(lang)
            elif found.texts:
                untranslated.setdefault((domain.name, translated is not None), []).append(lang)
        shown = _display(path, display_base)
        for text in found.texts:
            missing = [lang for lang in present if not _has(catalogs.get(domain.name, lang), text.message, text.context)]
            if missing:
                warnings.append((shown, text.line, text.column, f"{text.where} has no translation in {_join(missing)}"))
    for (name, exists), languages in untranslated.items():
        warnings.append(_summary(by_name[name], list(dict.fromkeys(languages)), exists, locales_dir, display_base))
    return catalogs.broken + warnings


def _has(translated: set[Key] | None, message: str, context: str) -> bool:
    return translated is not None and ((message, context) in translated or (message, None) in translated)


def _summary(domain: Domain, languages: list[str], exists: bool, locales: Path, base: Path | None) -> I18nWarning:
    """One warning for a domain's languages with no translated text (no .po, or an empty one)."""
    file = _display(po_path(locales, languages[0] if len(languages) == 1 else "<lang>", domain.name), base)
    if exists:
        message = f"the texts of '{domain.name}' are not translated into {_join(languages)} yet ({file})"
    else:
        why = f"{file} missing: run 'bots i18n update'"
        message = f"the texts of '{domain.name}' have no translations in {_join(languages)} ({why})"
    return (_display(domain.files[0], base), 1, 1, message)
