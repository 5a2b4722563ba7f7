"""The broken-files folder: every mistake an organiser can make, and what `bots check` says.

Each folder `tests/broken/<case>/` is a tiny project (`flows/`, maybe `knowledge/`) with
exactly one mistake in it, and `expected.txt` holds the exact lines `bots check` must print
on stdout when run in that folder (paths relative to it). The idea comes from goflow's
`testdata/broken_flows`: a message is part of the product, so each one is pinned here.

To add a case: make the folder, run `bots check` in it, and read every line as an organiser
would (does it name the file, line and column of the mistake itself, the key, the value and
the fix?) before you accept it into `expected.txt`.

Regenerating: `BOTS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/loader/test_broken_files.py`
rewrites every `expected.txt` from what the checker prints now (the tests then pass).
Review the diff afterwards: the files hold the messages as they *should* read, and some
were written by hand ahead of the loader; regenerating blindly would erase those.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bots import cli
from bots.loader import check_path

BROKEN = Path(__file__).resolve().parent.parent / "broken"
CASES = sorted(p for p in BROKEN.iterdir() if p.is_dir())
UPDATE = os.environ.get("BOTS_UPDATE_GOLDEN") == "1"

#: cases whose mistakes are only worth a warning: `bots check` must still exit 0
WARNING_CASES = tuple(p.name for p in CASES if p.name.startswith("warning_"))


def checked_lines(case_dir: Path) -> list[str]:
    return [d.render() for d in check_path(case_dir, display_base=case_dir)]


def expected_lines(case_dir: Path) -> list[str]:
    return (case_dir / "expected.txt").read_text(encoding="utf-8").splitlines()


def test_there_are_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_every_case_has_expected_output(case_dir: Path) -> None:
    assert (case_dir / "expected.txt").is_file(), f"{case_dir.name}: add expected.txt"
    assert (case_dir / "flows").is_dir(), f"{case_dir.name}: a case is a project with a flows/ folder"


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_broken_file(case_dir: Path) -> None:
    actual = checked_lines(case_dir)
    if UPDATE:
        (case_dir / "expected.txt").write_text("".join(line + "\n" for line in actual), encoding="utf-8")
    assert actual == expected_lines(case_dir)


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_warning_cases_have_only_warnings(case_dir: Path) -> None:
    """The case names say what the expected output must be: errors, or warnings only."""
    severities = {line.split(": ")[1] for line in expected_lines(case_dir) if line}
    if case_dir.name in WARNING_CASES:
        assert severities == {"warning"}
    else:
        assert "error" in severities


@pytest.mark.usefixtures("_restore_logging")
@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("next_names_nothing", 1),
        ("yaml_tab_indentation", 1),
        ("duplicate_catalog_item_id", 1),
        ("test_lang_not_offered", 1),
        *[(name, 0) for name in WARNING_CASES],
    ],
)
def test_exit_status(case: str, status: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    case_dir = BROKEN / case
    monkeypatch.chdir(case_dir)
    assert cli.main(["--project", str(case_dir), "check"]) == status
    out, err = capsys.readouterr()
    assert out.splitlines() == checked_lines(case_dir)
    assert ("0 error(s)" in err) == (status == 0)


def _bots_command() -> list[str]:
    script = Path(sys.executable).parent / ("bots.exe" if os.name == "nt" else "bots")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bots"]


def test_real_command_exits_1_on_an_error() -> None:
    case_dir = BROKEN / "unknown_key_in_node"
    done = subprocess.run([*_bots_command(), "check"], cwd=case_dir, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == checked_lines(case_dir)
    assert done.stderr.strip().endswith("1 error(s), 0 warning(s)")


def test_real_command_checks_one_file() -> None:
    """`bots check FILE` prints only that file's problems, with the path as given."""
    case_dir = BROKEN / "duplicate_catalog_item_id"
    done = subprocess.run(
        [*_bots_command(), "check", "flows/demo/main.yaml"],
        cwd=case_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
