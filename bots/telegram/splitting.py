"""Cutting a long Telegram HTML text into messages Telegram accepts.

A message holds at most 4096 characters, and each must parse on its own: a cut inside a tag
(`<a href="…`) or an entity (`&am|p;`) is refused with "can't parse entities", and so is a
part that opens `<b>` and never closes it. So a text is cut only between tags, entities and
characters; every tag still open at a cut is closed at the end of the part and opened again
(with its attributes) at the start of the next, and the closing and reopening count towards
the part's length. Cuts go at paragraph breaks, else line breaks, else spaces; inside a word
only when a single word is longer than a message.

Pure and total: any text gives parts of at most `limit` characters, none without visible text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEXT_LIMIT = 4096
SEPARATORS = ("\n\n", "\n", " ")

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


@dataclass(frozen=True)
class _Open:
    """A tag open at some point of the text: its name and its opening tag as written."""

    name: str
    tag: str


@dataclass
class _Layout:
    """Where the text may be cut (`cuts`, ascending: between tags, entities and characters),
    the tags open at each cut, and how many visible non-blank characters come before it."""

    cuts: list[int]
    open_at: dict[int, tuple[_Open, ...]]
    visible_at: dict[int, int]
    index: dict[int, int]  # cut -> its place in `cuts`


def _layout(text: str) -> _Layout:
    cuts: list[int] = [0]
    open_at: dict[int, tuple[_Open, ...]] = {0: ()}
    visible_at = {0: 0}
    stack: list[_Open] = []
    current: tuple[_Open, ...] = ()  # shared by every cut until a tag changes it
    visible = 0
    i = 0
    while i < len(text):
        char = text[i]
        tag = _TAG.match(text, i) if char == "<" else None
        if tag is not None:
            name = tag.group(2).lower()
            if not tag.group(1):
                stack.append(_Open(name, tag.group(0)))
            elif any(o.name == name for o in stack):  # a stray end tag changes nothing
                while stack.pop().name != name:
                    pass
            current = tuple(stack)
            i = tag.end()
        else:
            entity = _ENTITY.match(text, i) if char == "&" else None
            i = entity.end() if entity is not None else i + 1
            if not char.isspace():
                visible += 1
        cuts.append(i)
        open_at[i] = current
        visible_at[i] = visible
    return _Layout(cuts, open_at, visible_at, {cut: index for index, cut in enumerate(cuts)})


def _closing(tags: tuple[_Open, ...]) -> str:
    return "".join(f"</{o.name}>" for o in reversed(tags))


def _opening(tags: tuple[_Open, ...]) -> str:
    return "".join(o.tag for o in tags)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """The parts of `text` (Telegram HTML) as messages of at most `limit` characters each,
    tags balanced in every part (see the module's docstring)."""
    if len(text) <= limit:
        return [text]
    layout = _layout(text)
    end = len(text)
    parts: list[str] = []
    start = 0
    while start < end and layout.visible_at[end] > layout.visible_at[start]:  # else only tags and spaces are left
        reopen = _opening(layout.open_at[start])
        last = reopen + text[start:] + _closing(layout.open_at[end])
        if len(last) <= limit:
            parts.append(last)
            break
        cut, skip = _best_cut(text, layout, start, limit - len(reopen))
        if cut is None:  # the tags open here leave no room: go on without them, as plain text
            plain = _TAG.sub("", text[start:])
            return parts + [part for part in split_text(plain, limit) if part.strip()]
        body = text[start:cut].rstrip() if skip else text[start:cut]
        parts.append(reopen + body + _closing(layout.open_at[cut]))
        start = cut
        while skip and start < end and text[start] in "\n ":  # the separator goes, and the spaces after it
            start += 1
    return parts


def _best_cut(text: str, layout: _Layout, start: int, room: int) -> tuple[int | None, bool]:
    """Where to end the part that begins at `start` with `room` characters for its text and
    the tags it must close: the last paragraph break that fits, else line break, else space
    (True: a separator, dropped), else the furthest cut that fits (False), else None."""
    fitting: list[int] = []
    for cut in layout.cuts[layout.index[start] + 1 :]:
        if cut - start > room:
            break
        if cut - start + len(_closing(layout.open_at[cut])) <= room and layout.visible_at[cut] > layout.visible_at[start]:
            fitting.append(cut)
    if not fitting:
        return None, False
    for separator in SEPARATORS:
        for cut in reversed(fitting):
            if text.startswith(separator, cut):
                return cut, True
    return fitting[-1], False
