"""Explain YAML syntax errors the way an organiser can fix them.

libyaml reports where parsing failed, in parser terms ("mapping values are not allowed in
this context"), often lines after the real mistake. These heuristics look at the text
around that place for the usual causes (a tab, a colon in an unquoted text, a line
indented one space too far, a quote never closed) and say what to change, where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY_LINE = re.compile(r"^(\s*)(- )?([A-Za-z0-9_]+):(\s|$)")


@dataclass(frozen=True)
class Explanation:
    line: int  # 1-based
    column: int  # 1-based
    message: str


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _unclosed_quote(lines: list[str], upto: int) -> Explanation | None:
    """The first line (up to `upto`, 0-based) where a quoted value is opened but not closed."""
    for number in range(0, min(upto + 1, len(lines))):
        line = lines[number]
        match = re.match(r'^\s*(?:- )?(?:[A-Za-z0-9_]+:\s+|- )?(["\'])', line)
        if not match:
            continue
        quote = match.group(1)
        start = match.start(1)
        rest = line[start + 1 :]
        if quote == '"':
            closed = re.search(r'(?<!\\)"', rest.replace("\\\\", "")) is not None
        else:
            closed = re.search(r"'(?!')", rest.replace("''", "")) is not None
        if not closed:
            return Explanation(number + 1, start + 1, f"the quote opened here is not closed on its line; add the closing {quote}")
    return None


def explain(text: str, line: int, column: int, problem: str, context: str | None) -> Explanation | None:
    """A better message for a syntax error at `line`:`column` (1-based), or None."""
    lines = text.splitlines()
    index = line - 1
    if "tab" in problem:
        for number in range(max(0, index - 2), min(len(lines), index + 2)):
            if lines[number].startswith("\t") or lines[number].lstrip(" ").startswith("\t"):
                return Explanation(number + 1, 1, "this line is indented with a tab; use spaces to indent, not tabs")
    quote = _unclosed_quote(lines, index)
    if quote is not None and (quote.line < line or "quoted scalar" in (context or "") + problem):
        return quote
    if "mapping values are not allowed" in problem and 0 <= index < len(lines):
        current = lines[index]
        previous = next(
            (lines[n] for n in range(index - 1, -1, -1) if lines[n].strip() and not lines[n].lstrip().startswith("#")), ""
        )
        if previous and _KEY_LINE.match(current) and not previous.rstrip().endswith(":"):
            have, want = _indent(current), _indent(previous)
            if have > want:
                return Explanation(
                    line,
                    have + 1,
                    f"this line is indented more than the line above ({have} spaces, not {want}); "
                    "keys of the same node must start in the same column",
                )
        return Explanation(
            line,
            column,
            "a text containing ': ' must be put in quotes, like \"Thank you: we will write soon.\"",
        )
    return None
