"""Take the screenshots of docs/guide/studio.md: `python tests/studio/screenshots.py [DIR]`.

Runs `bots studio` on a copy of tests/studio/project and drives Debian's headless Chromium
through each pane, as the browser tests do. Not a test: run it after changing the page.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))

from tests.studio.conftest import chromium_or_skip, copy_project, start_studio, stop_studio  # noqa: E402
from tests.studio.test_browser import (  # noqa: E402
    MAIN,
    css,
    open_file,
    press,
    restart,
    tab,
    type_at_end_of_line,
    wait,
)


def main(target: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    os.environ["LOGNAME"] = "alex"  # the first name the bot greets (bots chat uses the login name)
    with tempfile.TemporaryDirectory() as scratch:
        studio = start_studio(copy_project(Path(scratch) / "project"))
        page: object = chromium_or_skip(Path(scratch) / "profile")
        driver = page  # type: ignore[assignment]
        try:
            driver.get(studio.url)
            wait(driver, lambda d: d.execute_script("return document.body.dataset.ready") == "yes", "the studio")

            tab(driver, "chat")
            restart(driver)
            press(driver, "I was fined")
            wait(driver, lambda d: "Take care" in css(d, "#chat-log .msg.bot")[-1].text, "the end")
            restart(driver)
            driver.save_screenshot(str(target / "studio-chat.png"))

            open_file(driver, MAIN)
            type_at_end_of_line(driver, 16, Keys.BACKSPACE)
            marked = wait(driver, lambda d: css(d, ".cm-content .cm-lintRange-error"), "the error")
            ActionChains(driver).move_to_element(marked[0]).perform()
            wait(driver, lambda d: css(d, ".cm-tooltip-lint"), "the error's tooltip")
            driver.save_screenshot(str(target / "studio-editor.png"))
            type_at_end_of_line(driver, 16, "e")
            wait(driver, lambda d: not css(d, ".cm-lintRange-error"), "the fix")

            tab(driver, "tests")
            css(driver, "#run-tests")[0].click()
            wait(driver, lambda d: "passed" in d.find_element("id", "tests-summary").text, "the tests")
            driver.save_screenshot(str(target / "studio-tests.png"))

            tab(driver, "graph")
            css(driver, "#graph-coverage")[0].click()
            wait(driver, lambda d: css(d, "#graph g.node.missed") and css(d, "#graph g.node.current"), "the graph")
            driver.save_screenshot(str(target / "studio-graph.png"))

            tab(driver, "translations")
            wait(driver, lambda d: css(d, "#tr-table textarea"), "the translations")
            driver.save_screenshot(str(target / "studio-translations.png"))
        finally:
            driver.quit()
            stop_studio(studio)
    for name in ("chat", "editor", "tests", "graph", "translations"):
        print(f"wrote {target / f'studio-{name}.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "docs" / "guide")
