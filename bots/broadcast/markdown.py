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

The text is parsed by markdown-it-py (CommonMark) with only the rules above switched on:
no HTML, entities, autolinks, images, reference links, code blocks, block quotes, rules,
underlined headings or numbered lists (their lines stay text, as they are). Emphasis and
links follow CommonMark's rules for where a marker opens and closes.

Pure functions, no I/O: `parse_news(text, path)` checks the file and renders each section;
`to_html(markdown)` renders one text; `visible_length(html)` is what Telegram counts
against its 4,096-character limit.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock, heading
from markdown_it.rules_block.list import list_block, skipBulletListMarker
from markdown_it.tree import SyntaxTreeNode

from bots.errors import BotsError

TEXT_LIMIT = 4096

_SECTION = re.compile(r"^##[ \t]+(\S+)[ \t]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")
_URL = re.compile(r"^https?://[^\s<>\"]+$", re.IGNORECASE)
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


# --- the parser ----------------------------------------------------------------------------


def _bullet_list(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """CommonMark's list rule for bullet lists that start with an item of some text: a line
    `1. text`, or a `-` alone, stays text."""
    after = skipBulletListMarker(state, start)
    if after < 0 or not state.src[after : state.eMarks[start]].strip(" \t"):
        return False
    return list_block(state, start, end, silent)


def _spaced_heading(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """CommonMark's heading rule where a space follows the `#`s: `###` alone stays text."""
    line = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    if line.lstrip("#")[:1] not in (" ", "\t"):
        return False
    return heading(state, start, end, silent)


def _url_kept(url: str) -> str:
    return url  # as written: markdown-it would percent-encode it, Telegram takes it either way


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.disable(["code", "fence", "blockquote", "hr", "reference", "html_block", "lheading"])
    md.disable(["autolink", "html_inline", "entity", "image"])
    md.block.ruler.at("list", _bullet_list, {"alt": ["paragraph", "reference", "blockquote"]})
    md.block.ruler.at("heading", _spaced_heading, {"alt": ["paragraph", "reference", "blockquote"]})
    md.validateLink = lambda url: bool(_URL.match(url))  # type: ignore[method-assign]
    md.normalizeLink = _url_kept  # type: ignore[method-assign]
    return md


_MARKDOWN = _parser()
_LINE_BREAK = re.compile(r"\r\n?|\n")
_FINAL_BACKSLASH = re.compile(r"(?<!\\)(?:\\\\)*\\$")  # an odd number of them: the last escapes nothing


# --- rendering -----------------------------------------------------------------------------


def _inline(node: SyntaxTreeNode) -> str:
    """An inline node and what is in it, as Telegram HTML."""
    kind = node.type
    if kind == "text":
        return html.escape(node.content, quote=False)
    if kind == "softbreak":
        return " "
    if kind == "hardbreak":
        return "\n"
    if kind == "code_inline":
        return f"<code>{html.escape(node.content, quote=False)}</code>"
    if kind == "em":
        inside = [child for child in node.children if child.type != "text" or child.content]
        if len(inside) == 1 and inside[0].type == "strong" and inside[0].markup == node.markup * 2:
            # ***both***: bold outside, as it always was
            return "<b><i>" + "".join(_inline(child) for child in inside[0].children) + "</i></b>"
    inner = "".join(_inline(child) for child in node.children)
    if kind == "strong":
        return f"<b>{inner}</b>"
    if kind == "em":
        return f"<i>{inner}</i>"
    if kind == "link":
        return f'<a href="{html.escape(str(node.attrs["href"]), quote=True)}">{inner}</a>'
    return inner  # "inline": the paragraph's or heading's content


def _blank_before(node: SyntaxTreeNode, lines: list[str]) -> bool:
    """Whether an empty line stands right before `node` in the source."""
    first = node.map[0] if node.map else 0
    return first > 0 and not lines[first - 1].strip(" \t")


def _join(nodes: list[SyntaxTreeNode], lines: list[str], level: int, *, in_item: bool) -> str:
    """Sibling blocks, an empty line between them; a list goes on the next line after a list
    (or, inside a list item, after its text) when no empty line stands between them."""
    text = ""
    previous: SyntaxTreeNode | None = None
    for node in nodes:
        rendered = _block(node, lines, level)
        if not rendered:
            continue
        if previous is not None:
            close = node.type == "bullet_list" and (previous.type == "bullet_list" or in_item)
            text += "\n" if close and not _blank_before(node, lines) else "\n\n"
        text += rendered
        previous = node
    return text


def _block(node: SyntaxTreeNode, lines: list[str], level: int) -> str:
    kind = node.type
    if kind == "paragraph":
        text = _inline(node.children[0])
        last = lines[node.map[1] - 1] if node.map else ""
        if _FINAL_BACKSLASH.search(last.rstrip(" \t") if last.endswith("  ") else last) and text.endswith("\\"):
            text = text[:-1].rstrip()  # a break asked for after the last line: there is none to keep
        return text
    if kind == "heading":
        return f"<b>{_inline(node.children[0])}</b>"
    if kind == "bullet_list":
        items = ""
        for index, item in enumerate(node.children):
            if index:
                items += "\n\n" if _blank_before(item, lines) else "\n"
            items += ("    ◦ " if level else "• ") + _join(item.children, lines, level + 1, in_item=True)
        return items
    raise AssertionError(f"a block the parser was not to make: {kind}")


def to_html(markdown: str) -> str:
    """A section's Markdown as Telegram HTML (see the module's docstring for what is understood)."""
    lines = _LINE_BREAK.split(markdown)
    root = SyntaxTreeNode(_MARKDOWN.parse(markdown))
    return _join(root.children, lines, 0, in_item=False)


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
