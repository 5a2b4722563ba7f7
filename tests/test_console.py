"""`bots chat`: piped conversations, and a process killed mid-conversation that resumes."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.support.commands import BOTS, environment, run_bots
from tests.support.project import write_project

FLOW = """\
start: name
nodes:
  name:
    type: choice
    text: "Pick a colour"
    save: colour
    options:
      - {label: "Red", value: red}
      - {label: "Blue", value: blue}
    next: count
  count:
    type: input
    kind: number
    text: "How many?"
    save: count
    next: confirm
  confirm:
    type: choice
    text: "{{ count }} {{ colour }}: right?"
    options:
      - {label: "Yes", next: done}
      - {label: "No", next: name}
  done:
    type: end
    text: "Saved {{ count }} {{ colour }}."
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", {"flows/demo/main.yaml": FLOW})


def test_piped_conversation_prints_plain_text_and_exits_at_end_of_input(project: Path, tmp_path: Path) -> None:
    done = run_bots("chat", "demo", "--db", str(tmp_path / "c.db"), cwd=project, stdin="2\nmany\n4\nYes\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Pick a colour",
        "[1] Red",
        "[2] Blue",
        "How many?",
        "Please send a number, for example 3.",
        "How many?",
        "4 blue: right?",
        "[1] Yes",
        "[2] No",
        "Saved 4 blue.",
        "(end of the conversation: send anything to begin again)",
    ]


def test_db_from_environment_and_unknown_bot(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    done = run_bots("chat", "demo", cwd=project, stdin="1\n", env=environment(BOTS_DB=str(db)))
    assert done.returncode == 0 and db.exists()
    wrong = run_bots("chat", "dmeo", cwd=project)
    assert wrong.returncode == 1
    assert "no bot 'dmeo' (did you mean 'demo'?)" in wrong.stderr


def test_default_database_is_under_the_working_directory(project: Path) -> None:
    done = run_bots("chat", "demo", cwd=project, stdin="1\n", env=environment(BOTS_DB=None))
    assert done.returncode == 0
    assert (project / "bots.db").exists()


class Chat:
    """A `bots chat` process we can talk to line by line."""

    def __init__(self, project: Path, db: Path) -> None:
        self.process = subprocess.Popen(
            [*BOTS, "chat", "demo", "--db", str(db)],
            cwd=project,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.seen: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} within {timeout}s; saw {self.seen}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()


def test_killed_mid_conversation_resumes_from_the_same_database(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "resume.db"
    first = Chat(project, db)
    try:
        first.wait_for("[2] Blue")
        first.send("Red")
        first.wait_for("How many?")
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        first.close()

    second = Chat(project, db)
    try:
        second.wait_for("How many?")  # the question it was waiting on, not the start
        assert "Pick a colour" not in second.seen
        second.send("7")
        second.wait_for("7 red: right?")  # the answer given before the kill was kept
        second.send("1")
        second.wait_for("Saved 7 red.")
        second.process.stdin.close()  # type: ignore[union-attr]
        assert second.process.wait(timeout=10) == 0
    finally:
        second.close()


def test_a_reader_that_goes_away_stops_the_chat_quietly(project: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*BOTS, "chat", "demo", "--db", str(tmp_path / "p.db")],
        cwd=project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    process.stdout.readline()  # the first line, then the reader is gone (like `| head -1`)
    process.stdout.close()
    _, errors = process.communicate(b"1\n5\n", timeout=30)
    assert process.returncode == 0
    assert b"Traceback" not in errors


def test_a_flow_problem_is_told_once_on_stderr_without_the_answer(tmp_path: Path) -> None:
    broken = FLOW.replace('text: "Saved {{ count }} {{ colour }}."', 'text: "{{ count.bad.attribute() }}"')
    root = write_project(tmp_path / "broken", {"flows/demo/main.yaml": broken})
    done = run_bots("chat", "demo", "--db", str(tmp_path / "c.db"), cwd=root, stdin="1\n4217\nYes\n")
    assert done.returncode == 0, done.stderr
    assert "something went wrong" in done.stdout
    assert done.stderr.count("flow problem at demo/main:done") == 1, done.stderr  # the engine logs nothing itself
    assert "4217" not in done.stderr
