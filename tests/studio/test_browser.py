"""The studio in a real headless Chromium, as an organiser uses it, on a copy of a small project.

One `bots studio` process and one browser serve the whole module; the tests run in order on
the same page (each leaves the page as the next expects it). Every wait is on something the
page shows, never on time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.studio.conftest import Studio, chromium_or_skip

MAIN = "flows/hello/main.yaml"


@pytest.fixture(scope="module")
def page(studio: Studio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver: Any = chromium_or_skip(tmp_path_factory.mktemp("chromium-profile"))
    try:
        driver.get(studio.base + "/")
        driver.refused_heading = driver.find_element("tag name", "h1").text
        driver.get(studio.url)
        wait(driver, lambda d: d.execute_script("return document.body.dataset.ready") == "yes", "the studio to start")
        yield driver
    finally:
        driver.quit()


def wait(driver: Any, condition: Any, what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 30, poll_frequency=0.05).until(condition, message=f"waiting for {what}")


def css(driver: Any, selector: str) -> list[Any]:
    return driver.find_elements("css selector", selector)


def tab(driver: Any, name: str) -> None:
    css(driver, f'#tabs button[data-pane="{name}"]')[0].click()


def said(driver: Any) -> list[str]:
    return [m.text for m in css(driver, "#chat-log .msg.bot")]


def buttons(driver: Any) -> list[str]:
    """The labels of the buttons of the question waiting (the last row, still pressable)."""
    return [b.text for b in css(driver, "#chat-log .choices button.choice") if b.is_enabled()]


def press(driver: Any, label: str) -> None:
    wait(driver, lambda d: label in buttons(d), f"a button {label!r}")
    next(b for b in css(driver, "#chat-log .choices button.choice") if b.is_enabled() and b.text == label).click()


def restart(driver: Any) -> None:
    count = len(css(driver, "#chat-log .msg"))
    css(driver, "#chat-restart")[0].click()
    wait(driver, lambda d: len(css(d, "#chat-log .msg")) > count + 1 and buttons(d), "the conversation to begin again")


def cursor_line(driver: Any) -> int:
    return int(driver.execute_script("const s = studio.view.state; return s.doc.lineAt(s.selection.main.head).number"))


def type_at_end_of_line(driver: Any, line: int, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script(
        "const v = studio.view; v.dispatch({selection: {anchor: v.state.doc.line(arguments[0]).to}}); v.focus();", line
    )
    ActionChains(driver).send_keys(keys).perform()


def open_file(driver: Any, path: str) -> None:
    css(driver, f'#files a[data-path="{path}"]')[0].click()
    wait(driver, lambda d: d.find_element("id", "filename").text == path, f"{path} to open")


def test_opens_with_its_token_and_refuses_without(page: Any, studio: Studio) -> None:
    assert page.refused_heading == "Open the address that bots studio printed"
    assert page.current_url == studio.base + "/"  # the token is gone from the address bar
    assert page.find_element("id", "filename").text == MAIN


def test_a_broken_flow_shows_its_error_at_its_line_until_fixed(page: Any, studio: Studio) -> None:
    from selenium.webdriver.common.keys import Keys

    on_disk = (studio.root / MAIN).read_text(encoding="utf-8")
    open_file(page, MAIN)
    type_at_end_of_line(page, 16, Keys.BACKSPACE)  # `next: bye` -> `next: by`
    expected = "flows/hello/main.yaml:16:11: error: node 'fined': next 'by' does not exist (did you mean 'bye'?)"
    wait(page, lambda d: expected in [li.text for li in css(d, "#problem-list li.sev-error")], "the error in the problems")
    marked = wait(page, lambda d: css(d, ".cm-content .cm-lintRange-error"), "the error marked in the text")
    line = page.execute_script(
        "const line = arguments[0].closest('.cm-line');"
        "return [...document.querySelectorAll('.cm-content > .cm-line')].indexOf(line) + 1;",
        marked[0],
    )
    assert (line, marked[0].text) == (16, "by")
    assert page.find_element("id", "dirty").is_displayed()
    assert (studio.root / MAIN).read_text(encoding="utf-8") == on_disk  # checked, not written

    type_at_end_of_line(page, 16, "e")
    wait(page, lambda d: not css(d, "#problem-list li.sev-error") and not css(d, ".cm-lintRange-error"), "the error to go")
    assert not page.find_element("id", "dirty").is_displayed()  # the text is the file's again


def test_chat_through_a_flow_with_buttons_and_follow_it_in_the_graph(page: Any) -> None:
    tab(page, "chat")
    restart(page)
    assert said(page)[-1].endswith("! How can I help?")
    assert buttons(page) == ["I was fined", "Something else", "Talk to a person"]
    press(page, "I was fined")
    wait(
        page,
        lambda d: said(d)[-2:] == ["A lawyer can help you appeal a fine.", "Take care. Send /start whenever you need us."],
        "the answers to the button",
    )

    restart(page)
    tab(page, "graph")
    current = wait(page, lambda d: css(d, "#graph g.node.current"), "the current node highlighted")
    assert [n.get_attribute("data-node") for n in current] == ["welcome"]
    css(page, '#graph g.node[data-node="human"]')[0].click()
    wait(page, lambda d: cursor_line(d) == 18, "the editor at node human")


def test_switch_language(page: Any) -> None:
    from selenium.webdriver.support.ui import Select

    tab(page, "chat")
    Select(page.find_element("id", "chat-lang")).select_by_value("ru")
    wait(page, lambda d: said(d)[-1].endswith("! Чем помочь?"), "the question in Russian")
    assert buttons(page) == ["Меня оштрафовали", "Something else", "Talk to a person"]  # two not translated yet


def test_edit_a_translation_and_hear_it_in_the_chat(page: Any, studio: Studio) -> None:
    tab(page, "translations")
    area = wait(page, lambda d: css(d, 'textarea[aria-label="ru: Something else"]'), "the translations table")[0]
    cell = area.find_element("xpath", "./ancestor::td")
    assert "missing" in cell.get_attribute("class")
    area.send_keys("Другое")
    cell.find_element("css selector", "button.cell-save").click()
    wait(page, lambda d: "translated" in cell.get_attribute("class"), "the translation saved")
    assert 'msgstr "Другое"' in (studio.root / "locales/ru/LC_MESSAGES/hello.po").read_text(encoding="utf-8")

    tab(page, "chat")
    restart(page)
    assert buttons(page) == ["Меня оштрафовали", "Другое", "Talk to a person"]


def test_run_the_tests_and_see_coverage(page: Any) -> None:
    tab(page, "tests")
    css(page, "#run-tests")[0].click()
    wait(page, lambda d: d.find_element("id", "tests-summary").text == "1 passed, 1 failed", "the tests to run")
    [failure] = css(page, "#tests-failures pre")
    assert failure.text.splitlines()[:2] == [
        "FAIL flows/hello/tests/main.yaml: something else also mentions lawyers",
        "  step 3: expect: A lawyer can help you",
    ]
    link = css(page, "#tests-failures a")[0]
    assert link.text == "flows/hello/tests/main.yaml:13"
    link.click()
    wait(
        page,
        lambda d: d.find_element("id", "filename").text == "flows/hello/tests/main.yaml" and cursor_line(d) == 13,
        "the editor at the failing step",
    )

    tab(page, "graph")
    css(page, "#graph-coverage")[0].click()
    missed = wait(page, lambda d: css(d, "#graph g.node.missed"), "the nodes no test reaches")
    assert [n.get_attribute("data-node") for n in missed] == ["human"]
    assert "nodes 3/4 (75%)" in page.find_element("id", "graph-coverage-text").text


def test_an_unsaved_change_is_tried_at_the_next_message_then_saved(page: Any, studio: Studio) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_file(page, MAIN)
    type_at_end_of_line(page, 6, Keys.LEFT + Keys.BACKSPACE * len("How can I help?") + "What do you need?")
    wait(page, lambda d: "draft" in css(d, f'#files a[data-path="{MAIN}"]')[0].get_attribute("class"), "the draft checked")
    tab(page, "chat")
    restart(page)
    assert said(page)[-1].endswith("! What do you need?")  # a new text: not translated, so in English
    assert "How can I help?" in (studio.root / MAIN).read_text(encoding="utf-8")

    page.execute_script("studio.view.focus()")
    ActionChains(page).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    wait(page, lambda d: d.find_element("id", "status").text == f"saved {MAIN}", "the file saved")
    assert 'text: "Hello, {{ user.first_name }}! What do you need?"' in (studio.root / MAIN).read_text(encoding="utf-8")
