"""MarkdownV2 and legacy Markdown entity parsing as tdlib does it (see ``formatting.py``)."""

from __future__ import annotations

from typing import Any

from bots.testing.standin.formatting import (
    Entity,
    ParseError,
    byte_offset,
    parse_html,
    utf16_len,
)

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into (visible text, entities); unescaped reserved characters are errors."""
    out: list[str] = []
    pos16 = 0
    stack: list[list[Any]] = []  # [type, start16, byte_offset, out_index, argument]
    entities: list[Entity] = []
    quote_start: int | None = None
    i, n = 0, len(text)

    def at(k: int) -> str:
        return text[k] if k < n else ""

    while i < n:
        c = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if line_start and not stack:
            if c == ">":
                if quote_start is None:
                    quote_start = pos16
                i += 1
                continue
            if quote_start is not None:
                if pos16 > quote_start:
                    entities.append({"type": "blockquote", "offset": quote_start, "length": pos16 - quote_start})
                quote_start = None
        if c == "\\" and 0 < ord(at(i + 1) or "\0") <= 126:
            out.append(text[i + 1])
            pos16 += 1
            i += 2
            continue
        top = stack[-1][0] if stack else None
        if (top in ("code", "pre") and c != "`") or c not in _MDV2_RESERVED:
            out.append(c)
            pos16 += 1 if ord(c) <= 0xFFFF else 2
            i += 1
            continue
        ends = {
            "bold": c == "*",
            "italic": c == "_" and at(i + 1) != "_",
            "code": c == "`",
            "pre": text.startswith("```", i),
            "text_link": c == "]",
            "underline": text.startswith("__", i),
            "strikethrough": c == "~",
            "spoiler": text.startswith("||", i),
            "custom_emoji": c == "]",
        }
        if top is not None and ends[top]:
            etype, start16, _byte, _idx, arg = stack.pop()
            if etype in ("underline", "spoiler"):
                i += 2
            elif etype == "pre":
                i += 3
            elif etype in ("text_link", "custom_emoji"):
                i += 1
                if at(i) != "(":
                    if etype == "custom_emoji":
                        raise ParseError("Custom emoji entity must contain a tg://emoji URL")
                    arg = "".join(out[_idx:])
                else:
                    i += 1
                    url_begin = i
                    url: list[str] = []
                    while i < n and text[i] != ")":
                        if text[i] == "\\" and 0 < ord(at(i + 1) or "\0") <= 126:
                            url.append(text[i + 1])
                            i += 2
                            continue
                        url.append(text[i])
                        i += 1
                    if i >= n:
                        raise ParseError(f"Can't find end of a URL at byte offset {byte_offset(text, url_begin)}")
                    i += 1
                    arg = "".join(url)
            else:
                i += 1
            if pos16 > start16:
                ent: Entity = {"type": etype, "offset": start16, "length": pos16 - start16}
                if etype == "text_link":
                    ent["url"] = arg
                elif etype == "custom_emoji":
                    ent["custom_emoji_id"] = arg.rsplit("id=", 1)[-1]
                elif etype == "pre" and arg:
                    ent["language"] = arg
                entities.append(ent)
            continue
        byte = byte_offset(text, i)
        arg = ""
        if c == "_" and at(i + 1) == "_":
            etype, i = "underline", i + 2
        elif c == "_":
            etype, i = "italic", i + 1
        elif c == "*":
            etype, i = "bold", i + 1
        elif c == "~":
            etype, i = "strikethrough", i + 1
        elif c == "|" and at(i + 1) == "|":
            etype, i = "spoiler", i + 2
        elif c == "[":
            etype, i = "text_link", i + 1
        elif c == "!" and at(i + 1) == "[":
            etype, i = "custom_emoji", i + 2
        elif c == "`" and text.startswith("```", i):
            etype, i = "pre", i + 3
            j = i
            while j < n and not text[j].isspace() and text[j] != "`":
                j += 1
            if j > i and j < n and text[j] != "`":
                arg, i = text[i:j], j
            if at(i) in ("\n", "\r"):
                i += 2 if at(i + 1) in ("\n", "\r") and at(i + 1) != at(i) else 1
        elif c == "`":
            etype, i = "code", i + 1
        else:
            raise ParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        stack.append([etype, pos16, byte, len(out), arg])
    if stack:
        etype, _s, byte, _i, _a = stack[-1]
        raise ParseError(f"Can't find end of {_MDV2_NAMES[etype]} entity at byte offset {byte}")
    if quote_start is not None and pos16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": pos16 - quote_start})
    return "".join(out), entities


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (``*bold* _italic_ `code` ```pre``` [text](url)``)."""
    out: list[str] = []
    pos16 = 0
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            pos16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            pos16 += utf16_len(c)
            i += 1
            continue
        begin = i
        is_pre = text.startswith("```", i)
        end_char = "]" if c == "[" else c
        i += 3 if is_pre else 1
        language = ""
        if is_pre:
            j = i
            while j < n and not text[j].isspace() and text[j] != "`":
                j += 1
            if j > i and j < n and text[j] == "\n":
                language, i = text[i:j], j + 1
        start16 = pos16
        while i < n and not (text.startswith("```", i) if is_pre else text[i] == end_char):
            out.append(text[i])
            pos16 += utf16_len(text[i])
            i += 1
        if i >= n:
            raise ParseError(f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}")
        i += 3 if is_pre else 1
        ent: Entity | None = None
        if c == "[":
            if i < n and text[i] == "(":
                close = text.find(")", i)
                if close < 0:
                    raise ParseError(f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}")
                ent = {"type": "text_link", "url": text[i + 1 : close]}
                i = close + 1
        else:
            ent = {"type": {"_": "italic", "*": "bold", "`": "pre" if is_pre else "code"}[c]}
            if language:
                ent["language"] = language
        if ent is not None and pos16 > start16:
            ent.update(offset=start16, length=pos16 - start16)
            entities.append(ent)
    return "".join(out), entities


PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
