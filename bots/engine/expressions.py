"""Templates and expressions, run in Jinja2's immutable sandbox.

Organisers write `{{ name }}` in texts and `need == 'support'` in conditions. Both are
compiled once and cached. The sandbox forbids access to Python internals, imports and I/O,
and cannot change the values it is given; we also cap the size of what `*` and `**` build,
so a careless expression cannot exhaust memory.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from babel.dates import format_date
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_POWER = 1_000
MAX_REPEAT = 10_000
# Telegram's HTML: these tags are kept as organisers wrote them; any other <, > or & is text
_ALLOWED_TAG = re.compile(
    r"</?(b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote|tg-spoiler)>|<a href=\"[^\"<>]*\">|</a>|<br\s*/?>",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_JINJA = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_REPEAT:
                    raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


#: the language of the step being run, for filters that format for the person (`date`)
CURRENT_LANGUAGE: ContextVar[str] = ContextVar("current_language", default="en")


def format_day(value: Any, style: str = "d MMMM y") -> str:
    """`{{ when | date }}`: a `YYYY-MM-DD` value as people write dates in their language
    (`23 November 2026`, `23 лістапада 2026`); `style` is short, medium, long, full or a
    CLDR pattern."""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    lang = CURRENT_LANGUAGE.get().replace("-", "_")
    try:
        return format_date(day, format=style, locale=lang)
    except (ValueError, LookupError):
        return day.isoformat()


#: how the step being run says a counted word in the person's language: (singular, plural, n)
CURRENT_PLURAL: ContextVar[Callable[[str, str, int], str] | None] = ContextVar("current_plural", default=None)


def plural(count: Any, singular: str, plural_form: str) -> str:
    """`{{ cards | plural('card', 'cards') }}`: the word for that number, in the person's
    language, with its plural rules (one/few/many in Belarusian and Russian), from the
    translation catalogs."""
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = 0
    say = CURRENT_PLURAL.get()
    if say is None:
        return singular if number == 1 else plural_form
    return say(singular, plural_form, number)


def plural_words(source: str) -> list[tuple[int, str, str]]:
    """(line in the text, singular, plural) of every `plural('…', '…')` in a template."""
    if "plural" not in source or check_template(source) is not None:
        return []
    found = []
    for node in _parse_template(source).find_all(nodes.Filter):
        if node.name == "plural" and len(node.args) == 2 and all(isinstance(a, nodes.Const) for a in node.args):
            singular, many = (a.value for a in node.args if isinstance(a, nodes.Const))
            if isinstance(singular, str) and isinstance(many, str):
                found.append((node.lineno, singular, many))
    return found


def _make(autoescape: bool) -> _Environment:
    env = _Environment(autoescape=autoescape, keep_trailing_newline=False)
    env.globals.clear()  # no range(), lipsum() or dict() unless we add them on purpose
    env.globals.update(min=min, max=max, len=len)
    env.filters["date"] = format_day
    env.filters["plural"] = plural
    return env


HTML = _make(autoescape=True)  # texts shown to people: variables escaped for Telegram's HTML
PLAIN = _make(autoescape=False)  # button labels and moderator topics: plain text


class ExpressionError(Exception):
    """A template or expression could not be compiled or evaluated."""


def has_template_syntax(text: str) -> bool:
    return "{" in text


@functools.lru_cache(maxsize=8192)
def _template(source: str, autoescape: bool) -> Any:
    env = HTML if autoescape else PLAIN
    try:
        return env.from_string(source)
    except TemplateSyntaxError as err:
        raise ExpressionError(f"template does not parse: {err.message}") from None


@functools.lru_cache(maxsize=8192)
def _expression(source: str) -> Callable[..., Any]:
    try:
        return HTML.compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError as err:
        raise ExpressionError(f"expression does not parse: {err.message}") from None


@functools.lru_cache(maxsize=8192)
def as_markup(source: str) -> str:
    """An organiser's text as Telegram HTML: the formatting tags Telegram knows are kept,
    every other `<`, `>` and `&` is written as text. Template tags are left alone."""
    parts = _JINJA.split(source)
    for index in range(0, len(parts), 2):  # even parts are literal text
        parts[index] = _escape_literal(parts[index])
    return "".join(parts)


def _escape_literal(text: str) -> str:
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            tag = _ALLOWED_TAG.match(text, position)
            if tag:
                out.append(tag.group(0))
                position = tag.end()
                continue
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char == "&":
            entity = _ENTITY.match(text, position)
            out.append(entity.group(0) if entity else "&amp;")
            if entity:
                position = entity.end()
                continue
        else:
            out.append(char)
        position += 1
    return "".join(out)


def render(source: str, variables: dict[str, Any], *, escape: bool = True) -> str:
    """Render a text. With `escape`, the result is Telegram HTML with values escaped."""
    if escape:
        source = as_markup(source)
    if not has_template_syntax(source):
        return source
    try:
        return str(_template(source, escape).render(variables))
    except ExpressionError:
        raise
    except Exception as err:  # anything the template does at run time
        raise ExpressionError(f"template failed: {type(err).__name__}") from None


def evaluate(source: str, variables: dict[str, Any]) -> Any:
    """Evaluate an expression over the variables."""
    try:
        return _expression(source)(**variables)
    except ExpressionError:
        raise
    except Exception as err:
        raise ExpressionError(f"expression failed: {type(err).__name__}") from None


def clear_caches() -> None:
    """Forget compiled and parsed templates (benchmarks measure a cold load with it)."""
    for cached in (_template, _expression, _parse_expression, _parse_template, as_markup):
        cached.cache_clear()
    _FACTS.clear()


def to_plain(text: str) -> str:
    """Telegram HTML to what a person reads: tags dropped, entities decoded."""
    return html.unescape(_ALLOWED_TAG.sub("", text))


# --- load-time checks ---------------------------------------------------------------


#: what the checks learn of a text: (is it a template, its source) -> (why it does not parse
#: or None, the variables it reads); kept apart from Jinja's trees so that a loader's cache can
#: keep these facts between processes (`facts_of`, `learn_facts`) and a load need not parse
Fact = tuple[str | None, frozenset[str]]
_FACTS: dict[tuple[bool, str], Fact] = {}
_FACTS_LIMIT = 50_000
_worked_out = [0]


def _fact(template: bool, source: str) -> Fact:
    key = (template, source)
    found = _FACTS.get(key)
    if found is None:
        found = _template_fact(source) if template else _expression_fact(source)
        _worked_out[0] += 1
        if len(_FACTS) >= _FACTS_LIMIT:
            _FACTS.clear()
        _FACTS[key] = found
    return found


def _template_fact(source: str) -> Fact:
    try:
        tree = _parse_template(source)
    except TemplateSyntaxError as err:
        return "template does not parse: " + _located(err, source), frozenset()
    loaded = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    return None, frozenset(loaded - stored)


def _expression_fact(source: str) -> Fact:
    if not source.strip():
        return "the expression is empty", frozenset()
    try:
        tree = _parse_expression(source)
    except TemplateSyntaxError as err:
        return f"expression '{source}' does not parse: " + _located(err, source), frozenset()
    return None, frozenset(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load")


def facts_of(sources: Iterable[tuple[bool, str]]) -> dict[tuple[bool, str], Fact]:
    """The facts already known about these (is it a template, source) pairs."""
    return {key: _FACTS[key] for key in sources if key in _FACTS}


def learn_facts(facts: Mapping[tuple[bool, str], Fact]) -> None:
    """Take facts worked out earlier (by this code version: the caller makes sure)."""
    _FACTS.update(facts)


def facts_worked_out() -> int:
    """How many facts this process has worked out so far (a cache's sign that it learnt some)."""
    return _worked_out[0]


def check_template(source: str) -> str | None:
    """The reason a template does not parse, or None."""
    if not has_template_syntax(source):
        return None
    return _fact(True, source)[0]


def check_expression(source: str) -> str | None:
    """The reason an expression does not parse, or None."""
    return _fact(False, source)[0]


@functools.lru_cache(maxsize=8192)
def _parse_expression(source: str) -> nodes.Expr:
    from jinja2.parser import Parser

    parser = Parser(HTML, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        token = parser.stream.current
        raise TemplateSyntaxError(f"unexpected '{token.value}'", token.lineno, None, None)
    return expr


_FRIENDLY = {
    "unexpected 'end of template'": "it ends too early, something is missing at the end",
    "unexpected end of template": "it ends too early, something is missing at the end",
    "unexpected '}'": "unexpected '}'; every '{{' needs a matching '}}'",
    "unexpected 'end of print statement'": "'{{ }}' holds nothing or an incomplete expression",
}


def _located(err: TemplateSyntaxError, source: str) -> str:
    message = err.message or "syntax error"
    for known, friendly in _FRIENDLY.items():
        if message.startswith(known):
            message = friendly
            break
    if source.count("\n") and err.lineno:
        message += f" (line {err.lineno} of the text)"
    return message


@functools.lru_cache(maxsize=8192)
def _parse_template(source: str) -> nodes.Template:
    return HTML.parse(source)


def template_variables(source: str) -> set[str]:
    """Top-level variable names a template reads (none when it does not parse)."""
    if not has_template_syntax(source):
        return set()
    return set(_fact(True, source)[1])


def expression_variables(source: str) -> set[str]:
    """Top-level variable names an expression reads (none when it does not parse)."""
    return set(_fact(False, source)[1])
