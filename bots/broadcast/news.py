"""The news file of `bots broadcast`: read, checked against the bot's languages, and named
by the SHA-256 of its bytes (which names the broadcast)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

from bots.broadcast.markdown import NewsError, Section, parse_news
from bots.loader.diagnostics import suggest


@dataclass(frozen=True)
class News:
    """A checked news file: its sections, and which one each language gets."""

    path: str
    digest: str  # SHA-256 of the file's bytes: names the broadcast
    sections: dict[str, Section]
    locales: tuple[str, ...]  # the bot's, the first being its default
    warnings: tuple[str, ...] = ()

    def section_for(self, lang: str | None) -> Section:
        """The person's language, else the bot's default, else the file's first section."""
        if lang in self.sections:
            return self.sections[lang]
        if self.locales and self.locales[0] in self.sections:
            return self.sections[self.locales[0]]
        return next(iter(self.sections.values()))


def load_news(path: Path, locales: list[str] | tuple[str, ...], *, shown: str | None = None) -> News:
    """Read and check a news file for a bot speaking `locales`. Raises `NewsError`."""
    name = shown or str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise NewsError(name, None, f"cannot read the file: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise NewsError(name, line, "the file is not UTF-8 text: save it as UTF-8") from None
    sections = parse_news(text, name)
    for lang, section in sections.items():
        if lang not in locales:
            raise NewsError(
                name,
                section.line,
                f"'{lang}' is not one of the bot's languages ({', '.join(locales)}){suggest(lang, locales)}; "
                "a heading inside a text needs three #: '### Title'",
            )
    news = News(name, hashlib.sha256(data).hexdigest(), sections, tuple(locales))
    warnings = tuple(
        f"{name}: warning: no '## {lang}' section: subscribers who speak {lang} get the '{news.section_for(lang).lang}' text"
        for lang in locales
        if lang not in sections
    )
    return dataclasses.replace(news, warnings=warnings)
