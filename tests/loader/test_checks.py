"""`check_path` and `bots check`: a whole project, one file, one folder."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from bots import cli
from bots.loader import check_path, find_root, load_project

TODAY = dt.date(2026, 6, 1)

VALID = {
    "flows/demo/bot.yaml": """\
        name: Demo
        start: main
        source_locale: en
        locales: [en, ru]
        token_env: DEMO_TOKEN
        moderators_chat_env: DEMO_MODERATORS
        help: "Press a button or type your answer."
        """,
    "flows/demo/main.yaml": """\
        start: welcome
        nodes:
          welcome:
            type: message
            text: "Hello, {{ user.first_name }}!"
            document: documents/guide.md
            next: menu
          menu:
            type: choice
            text: "What do you need?"
            save: need
            options:
              - {label: "Find support", value: support, next: situation}
              - {label: "Talk to a person", value: human, flow: human}
              - {label: "Send a card", value: card, next: "card:count"}
            next: menu
          situation:
            type: choice
            text: "What happened?"
            save: situation
            options:
              - {label: "I was detained", value: detained}
              - {label: "I am stressed", value: stressed}
            next: route
          route:
            type: branch
            cases:
              - when: "situation == 'detained'"
                next: found
            else: found
          found:
            type: results
            catalog: programmes
            filter: "situation in item.situations"
            text: "These programmes can help, {{ need }}:"
            limit: 3
            done: "Back"
            empty: nothing
            next: menu
          nothing:
            type: end
            text: "Nothing found. Send /start to begin again."
            outcome: nothing_found
        """,
    "flows/demo/human.yaml": """\
        start: handoff
        nodes:
          handoff:
            type: handoff
            text: "A person from our team will answer here."
            topic: "Demo: {{ need }}"
        """,
    "flows/demo/card.yaml": """\
        start: count
        nodes:
          count:
            type: input
            kind: number
            text: "How many cards?"
            min: 1
            max: 10
            error: "Please send a number from 1 to 10."
            save: cards
            next: when
          when:
            type: input
            kind: date
            text: "When?"
            min: today
            max: today+30
            save: day
            next: email
          email:
            type: input
            kind: email
            text: "Your email?"
            save: email
            sensitive: true
            next: name
          name:
            type: input
            text: "Your first name?"
            max_length: 40
            pattern: "[A-Za-z ]+"
            save: first_name
            next: total
          total:
            type: set
            values:
              total: "cards * 2"
              campaign: "'mothers_day'"
            next: "main:menu"
        """,
    "knowledge/programmes.yaml": """\
        catalog: programmes
        items:
          - id: legal-aid
            title: "Legal aid"
            summary: "Free consultation with a lawyer."
            contact: "@example_lawyers_bot"
            url: "https://example.org/legal"
            valid_until: 2027-12-31
            situations: [detained]
          - id: psych-help
            title: "Psychological help"
            situations: [stressed]
        """,
    "knowledge/documents/guide.md": "# Guide\n\nKeep your phone locked.\n",
    "flows/demo/tests/main.yaml": """\
        - name: a detained person finds legal aid
          lang: en
          steps:
            - send: /start
            - expect: "What do you need?"
            - press: "Find support"
            - press: "I was detained"
            - expect: "Legal aid"
            - expect_not: "Psychological help"
        """,
}

#: one mistake in each of three files
BROKEN = {
    "flows/demo/main.yaml": VALID["flows/demo/main.yaml"].replace("next: situation}", "next: situaton}"),
    "flows/demo/card.yaml": VALID["flows/demo/card.yaml"].replace("kind: email", "kind: mail"),
    "knowledge/programmes.yaml": VALID["knowledge/programmes.yaml"].replace("id: psych-help", "id: legal-aid"),
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def valid(tmp_path: Path) -> Path:
    return write(tmp_path / "project", VALID)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return write(tmp_path / "project", {**VALID, **BROKEN})


def files_of(diagnostics: list) -> list[str]:  # type: ignore[type-arg]
    return sorted({d.position.file for d in diagnostics})


# --- a valid project ---------------------------------------------------------------------------


def test_a_valid_project_has_no_diagnostics(valid: Path) -> None:
    assert check_path(valid, today=TODAY, display_base=valid) == []


def test_a_valid_project_loads_every_part(valid: Path) -> None:
    project, diagnostics = load_project(valid, today=TODAY, display_base=valid)
    assert list(diagnostics) == []
    bot = project.bots["demo"]
    assert sorted(bot.flows) == ["card", "human", "main"]
    assert [item.id for item in project.catalogs["programmes"].items] == ["legal-aid", "psych-help"]
    assert [test.name for tests in bot.tests.values() for test in tests] == ["a detained person finds legal aid"]


@pytest.mark.usefixtures("_restore_logging")
def test_bots_check_on_a_valid_project_exits_0(
    valid: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(valid / "flows" / "demo")  # the project is found above the working folder
    assert cli.main(["check"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "no problems found"


def test_find_root_looks_upwards(valid: Path) -> None:
    assert find_root(valid / "flows" / "demo" / "tests") == valid.resolve()
    assert find_root(valid) == valid.resolve()


# --- the whole project, one file, one folder -----------------------------------------------------


def test_the_whole_project_reports_every_file(broken: Path) -> None:
    found = check_path(broken, today=TODAY, display_base=broken)
    errors = [d for d in found if d.severity == "error"]
    assert files_of(errors) == ["flows/demo/card.yaml", "flows/demo/main.yaml", "knowledge/programmes.yaml"]
    assert len(errors) == 3
    places = [(d.position.file, d.position.line, d.position.column) for d in found]
    assert places == sorted(places)


@pytest.mark.parametrize("name", ["flows/demo/main.yaml", "flows/demo/card.yaml", "knowledge/programmes.yaml"])
def test_checking_one_file_reports_only_its_problems(broken: Path, name: str) -> None:
    found = check_path(broken / name, today=TODAY, display_base=broken)
    assert files_of(found) == [name]
    assert len([d for d in found if d.severity == "error"]) == 1


def test_one_file_is_checked_within_its_project(valid: Path) -> None:
    """main.yaml names the flows `human` and `card` and the catalog: they are found."""
    assert check_path(valid / "flows" / "demo" / "main.yaml", today=TODAY, display_base=valid) == []


def test_a_file_without_problems_reports_nothing_even_if_others_have_some(broken: Path) -> None:
    assert check_path(broken / "flows" / "demo" / "human.yaml", today=TODAY, display_base=broken) == []


def test_checking_a_folder_reports_only_files_under_it(broken: Path) -> None:
    flows = check_path(broken / "flows", today=TODAY, display_base=broken)
    assert files_of(flows) == ["flows/demo/card.yaml", "flows/demo/main.yaml"]
    knowledge = check_path(broken / "knowledge", today=TODAY, display_base=broken)
    assert files_of(knowledge) == ["knowledge/programmes.yaml"]
    tests = check_path(broken / "flows" / "demo" / "tests", today=TODAY, display_base=broken)
    assert tests == []


def test_paths_are_shown_relative_to_the_working_folder(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(broken / "flows")
    found = check_path(broken / "flows" / "demo" / "main.yaml", today=TODAY)
    assert files_of(found) == ["demo/main.yaml"]


@pytest.mark.usefixtures("_restore_logging")
def test_bots_check_file_prints_only_that_file(
    broken: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(broken)
    assert cli.main(["check", "knowledge/programmes.yaml"]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("knowledge/programmes.yaml:10:9: error: duplicate item id 'legal-aid'")
    assert err.strip() == "1 error(s), 0 warning(s)"


@pytest.mark.usefixtures("_restore_logging")
def test_bots_check_a_file_that_does_not_exist(
    valid: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(valid)
    assert cli.main(["check", "flows/demo/mian.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "flows/demo/mian.yaml: no such file or folder" in err
