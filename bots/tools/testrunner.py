"""`bots test`: run the organisers' conversation tests offline, through the engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bots.console.session import ButtonNotFound, Conversation
from bots.console.transcript import plain_lines
from bots.engine import Engine, Project
from bots.engine.i18n import SourceTexts, Translator
from bots.engine.model import ConversationTest

if TYPE_CHECKING:
    from bots.tools.coverage import Coverage


@dataclass
class Failure:
    file: str
    test: str
    step: int
    action: str
    expected: str
    said: str


@dataclass
class TestReport:
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


def run_test(engine: Engine, file: str, test: ConversationTest, coverage: Coverage | None = None) -> Failure | None:
    """Run one test; the first step that fails is returned. `coverage` learns what it pressed."""
    on_button = coverage.pressed if coverage is not None else None
    conversation = Conversation(engine, lang=test.lang, first_name=test.first_name, on_button=on_button)
    said = ""
    position = 0
    for number, step in enumerate(test.steps, start=1):
        action, value = step.action
        if action in ("send", "press"):
            try:
                outputs = conversation.send(value) if action == "send" else conversation.press(value)
            except ButtonNotFound as missing:
                return Failure(file, test.name, number, f"press: {value}", str(missing), said)
            said = "\n".join(plain_lines(outputs, notes=False))
            position = 0
        elif action == "expect":
            found = _find(said, value, position)
            if found < 0:
                return Failure(file, test.name, number, f"expect: {value}", value, said)
            position = found + len(_flat(value))
        else:  # expect_not
            if _find(said, value, position) >= 0:
                return Failure(file, test.name, number, f"expect_not: {value}", f"not {value!r}", said)
    return None


def _find(said: str, wanted: str, start: int) -> int:
    """Where `wanted` starts in `said` at or after `start`; line breaks count as spaces."""
    return _flat(said).find(_flat(wanted), start)


def _flat(text: str) -> str:
    return " ".join(text.split())


def run_tests(
    project: Project, bots: Iterable[str], translator: Translator | None = None, *, coverage: Coverage | None = None
) -> TestReport:
    """Run the tests of `bots`; with `coverage`, it learns which nodes and buttons they reach."""
    report = TestReport()
    for bot_id in bots:
        texts = translator or SourceTexts()
        engine = coverage.engine(project, bot_id, texts) if coverage is not None else Engine(project, bot_id, texts)
        for file, tests in project.bots[bot_id].tests.items():
            for test in tests:
                failure = run_test(engine, file, test, coverage)
                if failure is None:
                    report.passed += 1
                else:
                    report.failures.append(failure)
    return report


def describe_failure(failure: Failure) -> str:
    said = "\n".join(f"    | {line}" for line in failure.said.splitlines()) or "    | (nothing)"
    return (
        f"FAIL {failure.file}: {failure.test}\n"
        f"  step {failure.step}: {failure.action}\n"
        f"  expected: {failure.expected}\n"
        f"  the bot said:\n{said}"
    )
