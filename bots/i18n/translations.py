"""Translations from `locales/<lang>/LC_MESSAGES/*.po`, compiled by Babel.

Catalogs are loaded once. A `.mo` file compiled by `bots i18n compile` is used when it is
at least as new as its `.po`; otherwise the `.po` is compiled in memory (`.mo` files are not
kept in git). A `.po` file that does not parse is a loud error: silently falling back to the
source language would hide a broken translation.
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from babel.core import UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import Translations

from bots.engine.i18n import SourceTexts, Translator
from bots.errors import BotsError

#: the context of texts that belong to a bot rather than a node (`help:`), see bots.i18n.extract
BOT_CONTEXT = "bot"


class CatalogError(BotsError, RuntimeError):
    """A translation catalog cannot be used: the message names the file and the reason."""


#: the name this error had when compiled catalogs were required
MissingCompiledCatalog = CatalogError


class CatalogTranslator:
    """Looks a text up with its context first, then without, then falls back to the source.

    Texts that belong to the bot rather than a node (`help:`) are said wherever the person
    is; they are found under the context `bot` when the node's context has none.
    """

    def __init__(self, catalogs: dict[str, gettext.NullTranslations]) -> None:
        self.catalogs = catalogs

    def translate(self, lang: str, message: str, context: str | None = None) -> str:
        catalog = self.catalogs.get(lang)
        if catalog is None or not message:
            return message
        if context:
            found = catalog.pgettext(context, message)
            if found != message:
                return found
        found = catalog.gettext(message)
        if found != message or context == BOT_CONTEXT:
            return found
        return catalog.pgettext(BOT_CONTEXT, message)

    def translate_plural(self, lang: str, singular: str, plural: str, count: int, context: str | None = None) -> str:
        """The catalog's form for `count` under the language's plural rules (`Plural-Forms`)."""
        catalog = self.catalogs.get(lang)
        if catalog is None:
            return singular if count == 1 else plural
        if context:
            found = catalog.npgettext(context, singular, plural, count)
            if found not in (singular, plural):
                return found
        return catalog.ngettext(singular, plural, count)


def babel_locale(lang: str) -> str:
    """A locale as Babel spells it (`pt-BR` -> `pt_BR`)."""
    return lang.replace("-", "_")


def read_catalog(po: Path, lang: str | None = None, domain: str | None = None) -> Catalog:
    """Read a `.po` file with Babel; raises `CatalogError` naming the file when it does not parse."""
    try:
        with po.open("rb") as handle:
            return read_po(handle, locale=babel_locale(lang) if lang else None, domain=domain, abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, UnknownLocaleError, ValueError) as err:
        raise CatalogError(f"{po}: not a valid translation catalog ({err}); fix it or run 'bots i18n update'") from err


def compile_catalog(catalog: Catalog) -> bytes:
    """The `.mo` form of `catalog`: translated entries only (fuzzy ones are left out)."""
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _load_one(po: Path) -> Translations:
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return Translations(handle, domain=po.stem)
    compiled = compile_catalog(read_catalog(po, domain=po.stem))
    return Translations(BytesIO(compiled), domain=po.stem)


def load_catalogs(locales: Path) -> dict[str, gettext.NullTranslations]:
    """Every language's catalogs under `locales`, all domains of a language merged into one.

    Raises `CatalogError` for a `.po` file that does not parse.
    """
    catalogs: dict[str, gettext.NullTranslations] = {}
    if not locales.is_dir():
        return catalogs
    for lang_dir in sorted(p for p in locales.iterdir() if p.is_dir()):
        messages = lang_dir / "LC_MESSAGES"
        if not messages.is_dir():
            continue
        merged: Translations | None = None
        for po in sorted(messages.glob("*.po")):
            loaded = _load_one(po)
            if merged is None:
                merged = loaded
            else:
                merged.merge(loaded)
        if merged is not None:
            catalogs[lang_dir.name] = merged
    return catalogs


def project_translator(root: Path) -> Translator:
    """The translator for the project at `root`: its catalogs, or the source texts when it has none."""
    catalogs = load_catalogs(root / "locales")
    return CatalogTranslator(catalogs) if catalogs else SourceTexts()
