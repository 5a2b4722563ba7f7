"""What the source says of a model's keys, read the same way by the guide and by `bots schema`.

A field is described by the `#:` comment lines above it (and a docstring right below it), or
else by the sentence of a docstring that names its key in backticks (`key` or `key: ...`).
Docstrings may hold fenced YAML examples; `prose` is a docstring without them.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Iterator, Sequence

from pydantic import BaseModel

_FENCE = re.compile(r"^```ya?ml[ \t]*\n(.*?)^```[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")


def docstring(obj: object) -> str:
    """An object's own docstring, dedented ('' if it has none; never the base class's)."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def yaml_examples(obj: object) -> list[str]:
    """The fenced YAML blocks of a docstring, dedented, each ending in a newline."""
    return [textwrap.dedent(block) for block in _FENCE.findall(docstring(obj))]


def prose(obj: object) -> str:
    """A docstring without its YAML examples."""
    return re.sub(r"\n{3,}", "\n\n", _FENCE.sub("", docstring(obj))).strip()


def sentences(text: str) -> Iterator[str]:
    """The sentences of `text`, paragraph by paragraph, each on one line."""
    for paragraph in re.split(r"\n\s*\n", text):
        joined = " ".join(paragraph.split())
        if joined:
            yield from _SENTENCE_END.split(joined)


def mentioning(key: str, texts: Sequence[str], keys: Sequence[str] = ()) -> str:
    """The docstring sentence that best describes `key` (named in backticks, as `key` or
    `key: ...`), looking in `texts` in order: the first that starts with the key, else the
    first that names the fewest of `keys` (the model's keys), if it names at most three."""
    found = [s for text in texts for s in sentences(text) if _names(s, key)]
    for sentence in found:
        if re.match(r"`" + re.escape(key) + r"(`|:)", sentence):
            return sentence
    scored = [(sum(_names(s, k) for k in keys) or 1, index, s) for index, s in enumerate(found)]
    best = min(scored, default=None)
    return best[2] if best and best[0] <= 3 else ""


def _names(sentence: str, key: str) -> bool:
    return re.search(r"`" + re.escape(key) + r"(`|:)", sentence) is not None


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> what the source says of it, for `model` and its bases: the `#:` comment
    lines above the field, and a docstring right below it (a leading `extension:` dropped)."""
    comments: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if issubclass(klass, BaseModel) and not klass.__module__.startswith("pydantic"):
            comments.update(_class_comments(klass))
    return comments


def _class_comments(klass: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):  # no source: made in the interpreter, or frozen
        return {}
    tree = ast.parse(source)
    if not tree.body or not isinstance(tree.body[0], ast.ClassDef):
        return {}
    lines = source.splitlines()
    body = tree.body[0].body
    comments: dict[str, str] = {}
    for statement, following in zip(body, [*body[1:], None]):
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        said: list[str] = []
        row = statement.lineno - 2
        while row >= 0 and lines[row].strip().startswith("#:"):
            said.insert(0, lines[row].strip()[2:].strip())
            row -= 1
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            said.append(inspect.cleandoc(following.value.value))
        if said:
            comments[statement.target.id] = re.sub(r"^extension:\s*", "", " ".join(said))
    return comments
