"""Errors and warnings about organisers' files, in the `path:line:column: error: message` form."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Position:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    position: Position
    severity: Severity
    message: str
    path: tuple[str | int, ...] = field(default=(), compare=False)

    @classmethod
    def error(cls, position: Position, message: str, path: tuple[str | int, ...] = ()) -> Diagnostic:
        return cls(position, "error", message, path)

    @classmethod
    def warning(cls, position: Position, message: str, path: tuple[str | int, ...] = ()) -> Diagnostic:
        return cls(position, "warning", message, path)

    def render(self) -> str:
        return f"{self.position}: {self.severity}: {self.message}"


def suggest(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or an empty string."""
    names = list(candidates)
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.7)
    if not close:  # 'goodbye' for 'bye': one name inside the other
        word = str(word)
        close = [n for n in names if min(len(n), len(word)) >= 3 and (n in word or word in n)][:1]
    return f" (did you mean '{close[0]}'?)" if close else ""


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, int, str]:
    p = diagnostic.position
    return (p.file, p.line, p.column, 0 if diagnostic.severity == "error" else 1, diagnostic.message)


class DiagnosticList(list[Diagnostic]):
    """Collects diagnostics; `errors` and `warnings` filter them."""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == "warning"]

    def sorted(self) -> list[Diagnostic]:
        unique = {(d.position, d.severity, d.message): d for d in self}
        return sorted(unique.values(), key=sort_key)
