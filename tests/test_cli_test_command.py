"""`bots test`: conversation tests pass, and a failing one says where and what the bot said."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.cli import main
from tests.support.project import write_project

FLOW = """\
start: ask
nodes:
  ask:
    type: choice
    text: "Colour?"
    save: colour
    options:
      - {label: "Red", value: red}
      - {label: "Blue", value: blue}
    next: done
  done:
    type: end
    text: "You chose {{ colour }}."
"""

PASSING = """\
- name: picks red
  steps:
    - send: /start
    - expect: "Colour?"
    - expect: "Blue"
    - press: "Red"
    - expect: "You chose red."
    - expect_not: "blue"
"""

FAILING = """\
- name: expects the wrong colour
  lang: ru
  steps:
    - send: /start
    - press: "Blue"
    - expect: "You chose red."
- name: presses a button that is not there
  steps:
    - send: /start
    - press: "Green"
"""


def run(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.chdir(project)
    code = main(["test", *args])
    return code, capsys.readouterr().out


def test_passing_tests_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_project(tmp_path, {"flows/demo/main.yaml": FLOW, "flows/demo/tests/ok.yaml": PASSING})
    code, out = run(project, monkeypatch, capsys)
    assert code == 0
    assert out.strip() == "1 passed, 0 failed"


def test_a_failure_names_the_test_the_step_and_what_the_bot_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(
        tmp_path, {"flows/demo/main.yaml": FLOW, "flows/demo/tests/ok.yaml": PASSING, "flows/demo/tests/bad.yaml": FAILING}
    )
    code, out = run(project, monkeypatch, capsys, "demo")
    assert code == 1
    assert "FAIL flows/demo/tests/bad.yaml: expects the wrong colour\n  step 3: expect: You chose red.\n" in out
    assert "  the bot said:\n    | You chose blue." in out
    assert "FAIL flows/demo/tests/bad.yaml: presses a button that is not there\n  step 2: press: Green\n" in out
    assert "no button 'Green' (the buttons are: 'Red', 'Blue')" in out
    assert out.strip().endswith("1 passed, 2 failed")


def test_unknown_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_project(tmp_path, {"flows/demo/main.yaml": FLOW})
    monkeypatch.chdir(project)
    assert main(["test", "dmeo"]) == 1
    assert "no bot 'dmeo' (did you mean 'demo'?)" in capsys.readouterr().err
