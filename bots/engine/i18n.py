"""How the engine gets translations: a small interface, passed in from outside."""

from __future__ import annotations

from typing import Protocol

from babel import Locale, UnknownLocaleError


class Translator(Protocol):
    def translate(self, lang: str, message: str, context: str | None = None) -> str:
        """The translation of `message` (a source text) for `lang`, or `message` itself.

        `context` narrows the look-up (`flow:node`, `catalog:item`, or `bots` for the
        engine's own words); a translation without that context is used when there is none
        with it.
        """
        ...

    def translate_plural(self, lang: str, singular: str, plural: str, count: int, context: str | None = None) -> str:
        """The form of a counted word for `count` in `lang` (its plural rules), or the source's."""
        ...


class SourceTexts:
    """No translations: everyone reads the source texts."""

    def translate(self, lang: str, message: str, context: str | None = None) -> str:
        return message

    def translate_plural(self, lang: str, singular: str, plural: str, count: int, context: str | None = None) -> str:
        return singular if count == 1 else plural


def native_name(lang: str) -> str:
    """A language's name in itself: Беларуская, Русский, English."""
    try:
        name = Locale.parse(lang.replace("-", "_")).get_display_name(lang.replace("-", "_")) or lang
    except (ValueError, UnknownLocaleError):
        return lang
    return name[:1].upper() + name[1:]
