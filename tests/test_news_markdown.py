"""News files: Markdown sections per language, rendered as Telegram HTML (bots.broadcast.markdown)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.broadcast import load_news
from bots.broadcast.markdown import (
    TEXT_LIMIT,
    NewsError,
    parse_news,
    to_html,
    visible_length,
)
from bots.testing.standin.formatting import parse_html


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("plain text", "plain text"),
        ("**bold** and __bold__", "<b>bold</b> and <b>bold</b>"),
        ("*italic* and _italic_", "<i>italic</i> and <i>italic</i>"),
        ("***both***", "<b><i>both</i></b>"),
        ("**bold *inside* it**", "<b>bold <i>inside</i> it</b>"),
        ("`a < b && c`", "<code>a &lt; b &amp;&amp; c</code>"),
        ("`**not bold**`", "<code>**not bold**</code>"),
        ("[the site](https://example.org/a?b=1&c=2)", '<a href="https://example.org/a?b=1&amp;c=2">the site</a>'),
        ("[**bold** link](http://example.org)", '<a href="http://example.org"><b>bold</b> link</a>'),
        ("[no scheme](example.org)", "[no scheme](example.org)"),
        ("[script](javascript:alert(1))", "[script](javascript:alert(1))"),
        ("<b>not a tag</b> & co", "&lt;b&gt;not a tag&lt;/b&gt; &amp; co"),
        ("file_name_here and snake_case", "file_name_here and snake_case"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("**unclosed and *unclosed", "**unclosed and *unclosed"),
        (r"\*not italic\* and \_no\_", "*not italic* and _no_"),
        ("\"quotes\" 'stay'", "\"quotes\" 'stay'"),
        # what the format leaves out stays text, though CommonMark would read it
        ("1. first\n2. second", "1. first 2. second"),
        ("> a quote", "&gt; a quote"),
        ("Title\n---", "Title ---"),
        ("&copy; &amp;", "&amp;copy; &amp;amp;"),
        ("<https://example.org>", "&lt;https://example.org&gt;"),
        ("![a picture](https://example.org/p.png)", '!<a href="https://example.org/p.png">a picture</a>'),
        ("#hashtag and ###", "#hashtag and ###"),
        # CommonMark's reading: a heading's closing #s need a space before them; a link's parentheses pair up
        ("### News in C#", "<b>News in C#</b>"),
        ("[Minsk](https://en.wikipedia.org/wiki/Minsk_(city))", '<a href="https://en.wikipedia.org/wiki/Minsk_(city)">Minsk</a>'),
    ],
)
def test_inline_markdown(markdown: str, expected: str) -> None:
    assert to_html(markdown) == expected


def test_paragraphs_lines_lists_and_headings() -> None:
    markdown = (
        "First line\n"
        "goes on here.\n"
        "\n"
        "A hard break  \n"
        "and a backslash one\\\n"
        "end.\n"
        "Items:\n"
        "- one\n"
        "* two,\n"
        "  still two\n"
        "  - nested\n"
        "+ three\n"
        "\n"
        "### What's *new*\n"
        "Last."
    )
    assert to_html(markdown) == (
        "First line goes on here.\n"
        "\n"
        "A hard break\nand a backslash one\nend. Items:\n"
        "\n"
        "• one\n• two, still two\n    ◦ nested\n• three\n"
        "\n"
        "<b>What's <i>new</i></b>\n"
        "\n"
        "Last."
    )


def test_rendered_html_parses_as_telegram_html() -> None:
    html = to_html('**Hi** <you> & *all*: `x<y` [site](https://example.org/?q=a&b="c")\n\n- a\n- b')
    text, entities = parse_html(html)
    assert text.startswith("Hi <you> & all: x<y")
    assert [e["type"] for e in entities] == ["bold", "italic", "code"]
    assert visible_length(html) == len(text.strip())


NEWS = """\

## en
Hello, **friends**!

- one
- two

## ru
Привет, **друзья**!
"""


def test_sections_in_file_order_with_their_lines() -> None:
    sections = parse_news(NEWS, "news.md")
    assert list(sections) == ["en", "ru"]
    assert sections["en"].line == 2
    assert sections["en"].html == "Hello, <b>friends</b>!\n\n• one\n• two"
    assert sections["ru"].line == 8
    assert sections["ru"].html == "Привет, <b>друзья</b>!"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello\n## en\nHi\n", "news.md:1: error: text before the first language section"),
        ("## en\nHi\n## en\nAgain\n", "news.md:3: error: a second '## en' section (the first is on line 1)"),
        ("## en\nHi\n## ru\n\n\n## be\nx\n", "news.md:3: error: the 'ru' section is empty"),
        ("nothing\n", "news.md:1: error: text before the first language section"),
        ("\n\n", "news.md: error: no language section"),
    ],
)
def test_file_errors_name_the_file_and_line(text: str, message: str) -> None:
    with pytest.raises(NewsError) as caught:
        parse_news(text, "news.md")
    assert str(caught.value).startswith(message)


def test_a_section_too_long_once_formatted_is_refused() -> None:
    fits = "## en\n" + "**" + "a" * TEXT_LIMIT + "**\n"  # markup is not counted
    assert parse_news(fits, "news.md")["en"].length == TEXT_LIMIT
    with pytest.raises(NewsError, match=r"news.md:1: error: the 'en' text is 4,097 characters once formatted"):
        parse_news("## en\n" + "a&" * 2048 + "b\n", "news.md")


def test_a_heading_that_is_not_a_language_marker_stays_in_the_text() -> None:
    sections = parse_news("## en\n## This week\nNews.\n", "news.md")
    assert sections["en"].html == "<b>This week</b>\n\nNews."


def test_load_news_checks_the_bot_languages(tmp_path: Path) -> None:
    path = tmp_path / "news.md"
    path.write_text("## en\nHi\n## fr\nSalut\n", encoding="utf-8")
    with pytest.raises(NewsError) as caught:
        load_news(path, ["en", "ru"])
    assert str(caught.value).startswith(f"{path}:3: error: 'fr' is not one of the bot's languages (en, ru)")


def test_a_missing_language_falls_back_to_the_default_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "news.md"
    path.write_text("## ru\nПривет\n## en\nHi\n", encoding="utf-8")
    news = load_news(path, ["en", "ru", "be"])
    assert news.warnings == (f"{path}: warning: no '## be' section: subscribers who speak be get the 'en' text",)
    assert news.section_for("be").lang == "en"
    assert news.section_for("ru").lang == "ru"
    assert news.section_for(None).lang == "en"
    only_ru = tmp_path / "ru.md"
    only_ru.write_text("## ru\nПривет\n", encoding="utf-8")
    assert load_news(only_ru, ["en", "ru"]).section_for("en").lang == "ru"  # no default either: any section


def test_the_digest_names_the_exact_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text("## en\nHi\n", encoding="utf-8")
    b.write_text("## en\nHi \n", encoding="utf-8")
    assert load_news(a, ["en"]).digest != load_news(b, ["en"]).digest
    assert load_news(a, ["en"]).digest == load_news(a, ["en"]).digest


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "news.md"
    path.write_bytes(b"## en\nHi\n\xff\n")
    with pytest.raises(NewsError, match=r":3: error: the file is not UTF-8"):
        load_news(path, ["en"])
