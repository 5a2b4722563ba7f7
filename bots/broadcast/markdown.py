"""News files for `bots broadcast`: Markdown with one section per language, as Telegram HTML.

A news file holds one section per language, each opened by a line `## <lang>` (the bot's
locales: `## en`, `## ru`, `## be`) and followed by that language's text in a small Markdown:

- paragraphs, separated by a blank line; a single line break inside a paragraph is a space
  (as Markdown renders it); end a line with two spaces or a backslash to keep the break;
- `**bold**` (or `__bold__`), `*italic*` or `_italic_` (not inside a word: `file_name` stays),
  `` `code` ``, `[text](https://example.org)` (http and https links only);
- bullet lists: lines starting with `- `, `* ` or `+ ` become `• ` lines (indented ones `◦ `);
- `### a heading` (any level but a language marker) becomes a bold line;
- a backslash before a punctuation mark keeps it as it is (`\\*` is a star).

Everything else is text: `<`, `>` and `&` are escaped, so the file cannot inject markup.
Telegram's HTML has no paragraphs, so blocks are separated by an empty line.

Pure functions, no I/O: `parse_news(text, path)` checks the file and renders each section;
`to_html(markdown)` renders one text; `visible_length(html)` is what Telegram counts
against its 4,096-character limit.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bots.errors import BotsError

TEXT_LIMIT = 4096

_SECTION = re.compile(r"^##[ \t]+(\S+)[ \t]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")
_HEADING = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(.*)$")
_URL = re.compile(r"^https?://[^\s<>\"]+$", re.IGNORECASE)
_ESCAPABLE = set("\\`*_{}[]()#+-.!|>~<&\"'")
_TAG = re.compile(r"<[^>]*>")


class NewsError(BotsError, ValueError):
    """A news file cannot be sent as it is; `str(err)` is `path:line: error: what to fix`."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: error: {message}")


@dataclass(frozen=True)
class Section:
    """One language's text: where it starts, and what is sent."""

    lang: str
    line: int  # the line of its `## lang` marker (1-based)
    markdown: str
    html: str

    @property
    def length(self) -> int:
        """Characters as Telegram counts them, after its HTML is parsed."""
        return visible_length(self.html)


# --- inline --------------------------------------------------------------------------------


def _code_end(text: str, start: int) -> int:
    """Where the code span opened at `start` (a backquote) closes, or -1."""
    return text.find("`", start + 1)


def _find_closer(text: str, start: int, marker: str) -> int:
    """The index of the `marker` that closes an emphasis opened just before `start`, or -1.

    Code spans and backslash escapes are skipped; a single `*` or `_` is not closed by a
    double one (that is another, nested emphasis)."""
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            i += 2
            continue
        if c == "`":
            end = _code_end(text, i)
            if end > i:
                i = end + 1
                continue
        if text.startswith(marker, i):
            if len(marker) == 1 and text.startswith(marker * 2, i):
                # a double marker inside a single emphasis: skip the nested pair's opener
                i += 2
                continue
            if i > start and not text[i - 1].isspace():
                after = text[i + len(marker)] if i + len(marker) < n else ""
                if marker[0] != "_" or not after.isalnum():
                    return i
        i += 1
    return -1


def _link(text: str, start: int) -> tuple[str, str, int] | None:
    """`[label](url)` at `start`: (label, url, index after it), or None."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                break
        i += 1
    else:
        return None
    if not text.startswith("(", i + 1):
        return None
    close = text.find(")", i + 2)
    if close < 0:
        return None
    url = text[i + 2 : close].strip()
    if not _URL.match(url):
        return None
    return text[start + 1 : i], url, close + 1


def render_inline(text: str, *, links: bool = True) -> str:
    """One paragraph's text as Telegram HTML: emphasis, code and links; the rest escaped."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            out.append(html.escape(text[i + 1], quote=False))
            i += 2
            continue
        if c == "`":
            end = _code_end(text, i)
            if end > i + 1:
                out.append(f"<code>{html.escape(text[i + 1 : end], quote=False)}</code>")
                i = end + 1
                continue
        if c == "[" and links:
            found = _link(text, i)
            if found is not None:
                label, url, after = found
                out.append(f'<a href="{html.escape(url, quote=True)}">{render_inline(label, links=False)}</a>')
                i = after
                continue
        if c in "*_" and text.startswith(c * 3, i):  # ***both***
            inner = i + 3
            end = text.find(c * 3, inner)
            if inner < n and not text[inner].isspace() and end > inner and not text[end - 1].isspace():
                out.append(f"<b><i>{render_inline(text[inner:end], links=links)}</i></b>")
                i = end + 3
                continue
        if c in "*_":
            double = text.startswith(c * 2, i)
            marker = c * 2 if double else c
            inner = i + len(marker)
            before = text[i - 1] if i > 0 else ""
            opens = inner < n and not text[inner].isspace() and not (c == "_" and before.isalnum())
            if opens:
                end = _find_closer(text, inner, marker)
                if end > inner:
                    tag = "b" if double else "i"
                    out.append(f"<{tag}>{render_inline(text[inner:end], links=links)}</{tag}>")
                    i = end + len(marker)
                    continue
            out.append(html.escape(marker, quote=False))
            i = inner
            continue
        out.append(html.escape(c, quote=False))
        i += 1
    return "".join(out)


# --- blocks --------------------------------------------------------------------------------


def _join_lines(lines: list[str]) -> str:
    """A paragraph's lines as one text: soft breaks become spaces, hard ones stay."""
    text = ""
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        hard = line.endswith("  ") or (line.endswith("\\") and not line.endswith("\\\\"))
        body = line.strip()
        if hard and body.endswith("\\"):
            body = body[:-1].rstrip()
        text += body
        if not last:
            text += "\n" if hard else " "
    return text


def to_html(markdown: str) -> str:
    """A section's Markdown as Telegram HTML (see the module's docstring for what is understood)."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[tuple[int, list[str]]] = []  # (indent level, lines) of the list being read

    def flush() -> None:
        if paragraph:
            blocks.append(render_inline(_join_lines(paragraph)))
            paragraph.clear()
        if items:
            rendered = [("    ◦ " if level else "• ") + render_inline(_join_lines(lines)) for level, lines in items]
            blocks.append("\n".join(rendered))
            items.clear()

    for raw in markdown.splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            flush()
            continue
        heading = _HEADING.match(line)
        if heading is not None:
            flush()
            blocks.append(f"<b>{render_inline(heading.group(2))}</b>")
            continue
        bullet = _BULLET.match(line)
        if bullet is not None and bullet.group(2).strip():
            if paragraph:  # a list may follow a paragraph line directly
                flush()
            indent = len(bullet.group(1).expandtabs(4))
            items.append((1 if indent >= 2 else 0, [bullet.group(2)]))
            continue
        if items:  # an indented (or lazy) continuation of the last item
            items[-1][1].append(line)
            continue
        paragraph.append(line)
    flush()
    return "\n\n".join(b for b in blocks if b)


def visible_length(text_html: str) -> int:
    """The length Telegram checks: the text without its tags, entities decoded, trimmed."""
    return len(html.unescape(_TAG.sub("", text_html)).strip())


# --- a news file ---------------------------------------------------------------------------


def parse_news(text: str, path: str = "<news>", *, limit: int = TEXT_LIMIT) -> dict[str, Section]:
    """Every `## lang` section of a news file, rendered, in the file's order.

    Raises `NewsError` (with the file and line) for text before the first section, a
    language given twice, an empty section, a section too long for one Telegram message,
    or a file with no section at all. Which languages a bot needs is checked by the caller.
    """
    sections: dict[str, Section] = {}
    current: str | None = None
    start = 0
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        markdown = "\n".join(body).strip("\n")
        rendered = to_html(markdown)
        if not rendered.strip():
            raise NewsError(path, start, f"the '{current}' section is empty: write its text under '## {current}'")
        section = Section(current, start, markdown, rendered)
        if section.length > limit:
            raise NewsError(
                path,
                start,
                f"the '{current}' text is {section.length:,} characters once formatted; "
                f"a Telegram message holds at most {limit:,}: shorten it",
            )
        sections[current] = section

    for number, line in enumerate(text.splitlines(), start=1):
        marker = _SECTION.match(line)
        if marker is not None and _LANGUAGE.match(marker.group(1)):
            close()
            lang = marker.group(1)
            if lang in sections or lang == current:
                first = sections[lang].line if lang in sections else start
                raise NewsError(path, number, f"a second '## {lang}' section (the first is on line {first})")
            current, start, body = lang, number, []
            continue
        if current is None:
            if line.strip():
                raise NewsError(
                    path, number, "text before the first language section: start the file with a line '## <lang>', e.g. '## en'"
                )
            continue
        body.append(line)
    close()
    if not sections:
        raise NewsError(path, None, "no language section: write each language's text under a line '## <lang>', e.g. '## en'")
    return sections
