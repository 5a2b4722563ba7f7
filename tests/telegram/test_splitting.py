"""Long Telegram HTML texts cut into messages that Telegram accepts: every part parses (the
stand-in's parser is Telegram's rules), keeps its formatting and fits in 4096 characters."""

from __future__ import annotations

import random
import re

import pytest

from bots.engine.outputs import Say
from bots.telegram.render import render
from bots.telegram.splitting import TEXT_LIMIT, split_text
from bots.testing.standin.formatting import parse_html

LINK = '<a href="https://example.org/help?a=1&amp;b=2">'


def visible(part: str) -> str:
    """What the person reads of a part; raises (as Telegram refuses it) if it does not parse."""
    return parse_html(part)[0]


def test_a_long_bold_text_is_closed_and_opened_again_in_every_part() -> None:
    text = "<b>" + "bold words " * 1000 + "</b>"
    parts = split_text(text)
    assert len(parts) == 3
    assert all(len(part) <= TEXT_LIMIT for part in parts)
    assert all(part.startswith("<b>") and part.endswith("</b>") for part in parts)
    assert " ".join(visible(part).strip() for part in parts) == visible(text).strip()


def test_a_link_keeps_its_address_in_every_part_and_no_part_goes_over_the_limit() -> None:
    text = "Read this: " + LINK + "<i>" + "the guide &amp; more " * 400 + "</i></a> Thanks."
    parts = split_text(text)
    assert len(parts) == 3
    for part in parts[1:]:
        assert part.startswith(LINK + "<i>")
    for part in parts:
        assert len(part) <= TEXT_LIMIT
        assert part.count("<a ") == part.count("</a>") == 1
        entities = parse_html(part)[1]
        assert {"type": "text_link", "url": "https://example.org/help?a=1&b=2"}.items() <= entities[-1].items()
    assert parts[-1].endswith("</i></a> Thanks.")


@pytest.mark.parametrize("at", range(4080, 4100))
def test_a_cut_never_falls_inside_a_tag_or_an_entity(at: int) -> None:
    """Without a space to cut at, the cut is the furthest point that is not inside `&amp;` or
    a tag, wherever the limit falls in them."""
    text = "x" * at + "&amp;" + LINK + "y" * 200 + "</a>" + "z" * 5000
    parts = split_text(text)
    assert all(len(part) <= TEXT_LIMIT for part in parts)
    assert "".join(visible(part) for part in parts) == visible(text)


def test_the_tags_closed_and_opened_again_count_towards_the_limit() -> None:
    opening = "<b><i><u><s>"
    text = opening + "word " * 2000 + "</s></u></i></b>"
    parts = split_text(text)
    assert all(len(part) <= TEXT_LIMIT for part in parts)
    assert max(len(part) for part in parts) > TEXT_LIMIT - 10  # the room was used, not wasted
    assert all(part.startswith(opening) and part.endswith("</s></u></i></b>") for part in parts)


def test_random_html_always_gives_parts_that_parse_fit_and_lose_nothing() -> None:
    rng = random.Random(17)
    tags = ["b", "i", "u", "s", "code", "tg-spoiler", 'a href="https://e.org/?q=1&amp;r=2"', 'span class="tg-spoiler"']
    for _ in range(300):
        pieces, stack = [], []
        for _ in range(rng.randrange(5, 120)):
            roll = rng.random()
            if roll < 0.15 and len(stack) < 4:
                tag = rng.choice(tags)
                stack.append(tag.split()[0])
                pieces.append(f"<{tag}>")
            elif roll < 0.3 and stack:
                pieces.append(f"</{stack.pop()}>")
            elif roll < 0.4:
                pieces.append(rng.choice(["&amp;", "&lt;", "&gt;", "&quot;", "&#128512;", "\n\n", "\n"]))
            else:
                pieces.append(rng.choice(["a", "word", "Слова", "x" * rng.randrange(1, 80)]) + rng.choice([" ", "", "\n"]))
        text = "".join(pieces) + "".join(f"</{name}>" for name in reversed(stack))
        limit = rng.randrange(40, 200)
        parts = split_text(text, limit)
        assert all(len(part) <= limit for part in parts), text
        read = [visible(part) for part in parts]  # each parses on its own
        assert all(line.strip() for line in read), text
        assert re.sub(r"\s", "", "".join(read)) == re.sub(r"\s", "", visible(text)), text


def test_render_sends_each_part_as_html_that_parses() -> None:
    say = Say("<b>Your rights</b>\n\n" + "<i>" + "You may stay silent. " * 400 + "</i>")
    calls = render("c", 7, [say], None)
    assert [c.method for c in calls] == ["sendMessage"] * 4  # cut at the paragraph break first, as before
    assert [visible(c.params["text"])[:11] for c in calls] == ["Your rights", "You may sta", "silent. You", "stay silent"]
    assert all(c.params["parse_mode"] == "HTML" and len(c.params["text"]) <= TEXT_LIMIT for c in calls)
