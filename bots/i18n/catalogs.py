"""The translation files of a project, made and merged with Babel's own functions.

- `locales/<domain>.pot`: the template, extracted from the YAML (and the engine's texts);
- `locales/<lang>/LC_MESSAGES/<domain>.po`: one language's translations, merged from the
  template with `Catalog.update` (changed texts keep their old translation, marked fuzzy);
- `locales/<lang>/LC_MESSAGES/<domain>.mo`: compiled with `write_mo`, fuzzy entries left out.

Files are rewritten only when something other than their dates changed, so running the
commands twice gives no differences to commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from babel.core import UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import write_po

from bots.i18n.domains import Domain
from bots.i18n.translations import CatalogError, babel_locale, compile_catalog, read_catalog

_DATES = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): [^"]*"\n', re.MULTILINE)


def template_path(locales: Path, domain: str) -> Path:
    return locales / f"{domain}.pot"


def po_path(locales: Path, lang: str, domain: str) -> Path:
    return locales / lang / "LC_MESSAGES" / f"{domain}.po"


def existing_languages(locales: Path, domain: str) -> list[str]:
    """Languages that already have a `.po` file for `domain`."""
    if not locales.is_dir():
        return []
    return sorted(p.parent.parent.name for p in locales.glob(f"*/LC_MESSAGES/{domain}.po"))


@dataclass(frozen=True)
class Counts:
    """How much of a template one language's catalog translates."""

    translated: int = 0
    fuzzy: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return self.translated + self.fuzzy + self.missing


def _header(domain: Domain) -> str:
    return (
        f"# Translations of the '{domain.name}' texts, made by 'bots i18n update'.\n"
        "# The source texts live in the files named in the '#:' lines: change\n"
        "# them there, and only the msgstr lines here."
    )


def extract_domain(domain: Domain) -> Catalog:
    """The template of `domain`: every text of its files, with its context and location."""
    catalog = Catalog(domain=domain.name, project=domain.name, header_comment=_header(domain), fuzzy=False)
    for path in domain.files:
        location = path.relative_to(domain.base).as_posix() if path.is_relative_to(domain.base) else path.name
        for lineno, message, comments, context in extract_from_file(domain.method, path):
            catalog.add(message, locations=[(location, lineno)], auto_comments=comments, context=context)
    return catalog


def count(template: Catalog, catalog: Catalog | None) -> Counts:
    """Translated, fuzzy (out of date) and missing entries of `template` in `catalog`."""
    translated = fuzzy = missing = 0
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context) if catalog is not None else None
        if found is None or not found.string:
            missing += 1
        elif found.fuzzy:
            fuzzy += 1
        else:
            translated += 1
    return Counts(translated, fuzzy, missing)


def same_entries(template: Catalog, catalog: Catalog) -> bool:
    """Whether `catalog` has exactly the entries of `template` (else it needs an update)."""
    wanted = {(m.id, m.context) for m in template if m.id}
    have = {(m.id, m.context) for m in catalog if m.id}
    return wanted == have


def write_if_changed(catalog: Catalog, path: Path, *, include_previous: bool = False) -> bool:
    """Write `catalog` to `path` unless only its dates would change; whether it was written."""
    buffer = BytesIO()
    write_po(buffer, catalog, include_previous=include_previous)
    data = buffer.getvalue()
    if path.exists() and _DATES.sub(b"", path.read_bytes()) == _DATES.sub(b"", data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


@dataclass(frozen=True)
class Written:
    """One file a command made: whether it is new or changed, and its figures."""

    path: Path
    created: bool
    changed: bool
    counts: Counts


def write_template(domain: Domain, locales: Path) -> Written:
    """Extract `domain` into `locales/<domain>.pot`."""
    template = extract_domain(domain)
    path = template_path(locales, domain.name)
    created = not path.exists()
    changed = write_if_changed(template, path)
    return Written(path, created, changed, Counts(missing=sum(1 for m in template if m.id)))


def new_catalog(domain: Domain, lang: str) -> Catalog:
    """An empty catalog for `lang` (with the language's plural forms)."""
    try:
        return Catalog(
            locale=babel_locale(lang),
            domain=domain.name,
            project=domain.name,
            header_comment=_header(domain),
            fuzzy=False,
        )
    except (UnknownLocaleError, ValueError) as err:
        raise CatalogError(f"'{lang}' is not a language Babel knows ({err}); check the bots' locales") from err


def update_language(domain: Domain, lang: str, template: Catalog, locales: Path) -> Written:
    """Merge `template` into `lang`'s catalog of `domain`, creating it if it is missing.

    Translations are kept; an entry whose source text changed keeps its old translation,
    marked fuzzy (Babel's fuzzy matching); translated entries no longer in the sources are
    kept as obsolete (`#~`), untranslated ones are dropped.
    """
    path = po_path(locales, lang, domain.name)
    created = not path.exists()
    catalog = new_catalog(domain, lang) if created else read_catalog(path, lang, domain.name)
    catalog.update(template)
    # obsolete entries are kept for translators (as `#~`), but only those with a translation
    catalog.obsolete = {key: message for key, message in catalog.obsolete.items() if message.string}
    changed = write_if_changed(catalog, path, include_previous=True)
    return Written(path, created, changed, count(template, catalog))


def update_domain(domain: Domain, languages: list[str], locales: Path) -> list[Written]:
    """Merge the domain's `.pot` into the `.po` of every language in `languages` and every
    language that already has one."""
    template = read_catalog(template_path(locales, domain.name), domain=domain.name)
    wanted = list(dict.fromkeys([*languages, *existing_languages(locales, domain.name)]))
    return [update_language(domain, lang, template, locales) for lang in wanted]


def compile_po(po: Path) -> Written:
    """Compile one `.po` file into the `.mo` next to it (translated, not fuzzy, entries only)."""
    catalog = read_catalog(po, po.parent.parent.name, po.stem)
    mo = po.with_suffix(".mo")
    data = compile_catalog(catalog)
    created = not mo.exists()
    changed = created or mo.read_bytes() != data
    if changed:
        mo.write_bytes(data)
    else:
        mo.touch()  # as new as its .po, so that loading uses it
    figures = count(catalog, catalog)
    return Written(mo, created, changed, figures)


def all_po_files(locales: Path) -> list[Path]:
    """Every `.po` file under `locales/<lang>/LC_MESSAGES/`."""
    return sorted(locales.glob("*/LC_MESSAGES/*.po")) if locales.is_dir() else []
