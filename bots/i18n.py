"""Translations from `locales/<lang>/LC_MESSAGES/*.mo`, compiled from the `.po` files by Babel.

Catalogs are loaded once. A language with `.po` files but no compiled catalog is a loud
error: silently falling back to the source language would hide a broken install.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.support import Translations

from bots.engine.i18n import SourceTexts, Translator


class MissingCompiledCatalog(RuntimeError):
    pass


class CatalogTranslator:
    """Looks a text up with its context first, then without, then falls back to the source."""

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
        return catalog.gettext(message)


def load_catalogs(locales: Path) -> dict[str, gettext.NullTranslations]:
    catalogs: dict[str, gettext.NullTranslations] = {}
    if not locales.is_dir():
        return catalogs
    for lang_dir in sorted(p for p in locales.iterdir() if p.is_dir()):
        messages = lang_dir / "LC_MESSAGES"
        if not messages.is_dir():
            continue
        merged: Translations | None = None
        for po in sorted(messages.glob("*.po")):
            mo = po.with_suffix(".mo")
            if not mo.exists():
                raise MissingCompiledCatalog(
                    f"{po} has no compiled catalog {mo.name}: run 'bots i18n compile' (or reinstall)"
                )
            with mo.open("rb") as handle:
                loaded = Translations(handle, domain=po.stem)
            if merged is None:
                merged = loaded
            else:
                merged.merge(loaded)
        if merged is not None:
            catalogs[lang_dir.name] = merged
    return catalogs


def project_translator(root: Path) -> Translator:
    catalogs = load_catalogs(root / "locales")
    return CatalogTranslator(catalogs) if catalogs else SourceTexts()
