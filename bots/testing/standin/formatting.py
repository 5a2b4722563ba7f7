"""Entity parsing as Telegram (tdlib) does it: HTML; of MarkdownV2 and legacy Markdown, the
text without markup.

Each parser returns the visible text and a list of MessageEntity dicts (offsets and lengths in
UTF-16 code units) or raises :class:`ParseError` with tdlib's wording, which the caller turns
into ``400 Bad Request: can't parse entities: <reason>``. The project sends HTML only, so the
Markdown modes read text with escapes but no markup: up to the first character that would open
an entity they answer as Telegram does (a reserved character unescaped is tdlib's error), and
that character is refused with a reason that names the stand-in (README: simplifications).
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]


class ParseError(ValueError):
    """The text does not parse in the requested parse mode; ``str(err)`` is tdlib's reason."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
        "tg-time",
    }
)
_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));")
_SPECIAL_RE = re.compile(r"[<&]")


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    m = _ENTITY_RE.match(text, i)
    if not m:
        return None
    if m.group(3) is not None:
        ch = _NAMED.get(m.group(3))
        return (ch, m.end()) if ch else None
    code = int(m.group(1)) if m.group(1) is not None else int(m.group(2), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        dec = _decode_entity(value, i) if value[i] == "&" else None
        if dec:
            out.append(dec[0])
            i = dec[1]
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _html_entity(tag: str, attrs: dict[str, str], offset: int, length: int) -> Entity | None:
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return None
        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if m:
            return {
                "type": "text_mention",
                "offset": offset,
                "length": length,
                "user": {"id": int(m.group(1)), "is_bot": False, "first_name": ""},
            }
        return {"type": "text_link", "offset": offset, "length": length, "url": href}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": attrs.get("emoji-id", "")}
    if tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return {"type": kind, "offset": offset, "length": length}
    if tag == "tg-time":
        ent: Entity = {"type": "date_time", "offset": offset, "length": length}
        if attrs.get("unix", "").isdigit():
            ent["unix_time"] = int(attrs["unix"])
        return ent
    ent = {"type": _HTML_TYPES[tag], "offset": offset, "length": length}
    if tag == "pre" and attrs.get("_language"):
        ent["language"] = attrs["_language"]
    return ent


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram-flavoured HTML into (visible text, entities)."""
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        m = _SPECIAL_RE.search(text, i)
        end = m.start() if m else n
        if end > i:
            chunk = text[i:end]
            out.append(chunk)
            pos16 += utf16_len(chunk)
            i = end
            if i >= n:
                break
        if text[i] == "&":
            dec = _decode_entity(text, i)
            ch, i = (dec[0], dec[1]) if dec else ("&", i + 1)
            out.append(ch)
            pos16 += utf16_len(ch)
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":  # end tag
            i += 1
            j = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            name = text[j:i].lower()
            if not stack:
                raise ParseError(f"Unexpected end tag at byte offset {byte_offset(text, begin)}")
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise ParseError(f"Unclosed end tag at byte offset {byte_offset(text, begin)}")
            i += 1
            tag, attrs, start16 = stack[-1]
            if name != tag:
                raise ParseError(
                    f'Unmatched end tag at byte offset {byte_offset(text, begin)}, expected "</{tag}>", found "</{name}>"'
                )
            stack.pop()
            if tag == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-"):
                stack[-1][1]["_language"] = attrs["class"][len("language-") :]
            if pos16 > start16:
                ent = _html_entity(tag, attrs, start16, pos16 - start16)
                if ent is not None:
                    entities.append(ent)
            continue
        j = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise ParseError(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
        tag = text[j:i].lower()
        if tag not in _HTML_TAGS:
            raise ParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset(text, begin)}')
        attrs = {}
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise ParseError(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
            if text[i] == ">":
                i += 1
                break
            if text[i] == "/":
                i += 1
                continue
            j = i
            while i < n and not text[i].isspace() and text[i] not in "=>/\"'":
                i += 1
            attr = text[j:i].lower()
            if not attr:
                raise ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(text, i)}')
            while i < n and text[i].isspace():
                i += 1
            if i < n and text[i] != "=":
                if text[i] in ">/" or text[j - 1].isspace():
                    attrs[attr] = ""
                    continue
                raise ParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {byte_offset(text, i)}'
                )
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise ParseError(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
            if text[i] in "\"'":
                close = text.find(text[i], i + 1)
                if close < 0:
                    raise ParseError(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
                attrs[attr] = _unescape(text[i + 1 : close])
                i = close + 1
            else:
                j = i
                while i < n and not text[i].isspace() and text[i] != ">":
                    i += 1
                attrs[attr] = _unescape(text[j:i])
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(text, begin)}')
        stack.append((tag, attrs, pos16))
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_OPENERS = frozenset("_*[~`")  # and "||", "![", ">" at a line's start
_MARKDOWN_OPENERS = frozenset("_*`[")


def _markup_refused(mode: str, text: str, index: int) -> ParseError:
    return ParseError(
        f"the Bot API stand-in reads no {mode} markup ({text[index]!r} at byte offset {byte_offset(text, index)}): "
        "send HTML, or escape the character"
    )


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """MarkdownV2 without markup: escapes resolved, an unescaped reserved character refused
    with tdlib's reason; one that would open an entity is refused by the stand-in."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        if c not in _MDV2_RESERVED:
            out.append(c)
            i += 1
            continue
        pair = text[i : i + 2]
        if c in _MDV2_OPENERS or pair in ("||", "![") or (c == ">" and (i == 0 or text[i - 1] == "\n")):
            raise _markup_refused("MarkdownV2", text, i)
        raise ParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
    return "".join(out), []


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown without markup: a backslash before ``_ * ` [`` keeps the character;
    any of them unescaped is refused by the stand-in."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _MARKDOWN_OPENERS:
            out.append(text[i + 1])
            i += 2
            continue
        if c in _MARKDOWN_OPENERS:
            raise _markup_refused("Markdown", text, i)
        out.append(c)
        i += 1
    return "".join(out), []


PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")


def command_entities(text: str) -> list[Entity]:
    """``bot_command`` entities for every ``/command`` or ``/command@bot`` in ``text``."""
    result: list[Entity] = []
    for m in _COMMAND_RE.finditer(text):
        result.append({"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))})
    return result


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading/trailing whitespace as Telegram does, clipping entity ranges to the rest."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[Entity] = []
    for ent in entities:
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            kept.append({**ent, "offset": start, "length": end - start})
    return stripped, kept


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Telegram's order: by offset, longer first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))
