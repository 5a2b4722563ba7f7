"""The loader's cache (`bots.loader.cache`): the same diagnostics with it and without it, only
changed files parsed again, checks across files always made afresh, and a disk file that
holds nothing it must not."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bots.loader import cache, check_path
from tests.support.project import write_project

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "broken"

MAIN = """\
start: hello
nodes:
  hello:
    type: choice
    text: "Hello, {{ user.first_name }}!"
    options:
      - {label: "More", next: "other:target"}
      - {label: "Stay", next: bye}
  bye:
    type: end
    text: "Bye."
"""

OTHER = """\
start: target
nodes:
  target:
    type: message
    text: "Here."
"""


def rendered(root: Path) -> list[str]:
    return [d.render() for d in check_path(root, display_base=root)]


def cache_files() -> list[Path]:
    folder = cache.cache_dir()
    assert folder is not None
    return sorted(folder.glob("*.pickle")) if folder.is_dir() else []


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own, and nothing kept in memory."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    cache.forget()
    yield folder
    cache.forget()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", {"flows/demo/main.yaml": MAIN, "flows/demo/other.yaml": OTHER})


def three_ways(root: Path) -> tuple[list[str], list[str], list[str]]:
    """What `bots check` says with nothing kept, with the parses in memory, and from disk."""
    cache.forget()
    cold = rendered(root)
    warm = rendered(root)
    cache.forget()
    from_disk = rendered(root)
    return cold, warm, from_disk


@pytest.mark.parametrize("case", sorted(p.name for p in BROKEN.iterdir() if p.is_dir()))
def test_broken_files_say_the_same_with_and_without_the_cache(case: str, own_cache: Path) -> None:
    cold, warm, from_disk = three_ways(BROKEN / case)
    expected = (BROKEN / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert cold == warm == from_disk == expected


def test_the_real_flows_say_the_same_with_and_without_the_cache(own_cache: Path) -> None:
    cold, warm, from_disk = three_ways(REPO)
    assert cold == warm == from_disk
    assert cache.STATS.disk_reads >= 1


def test_nothing_changed_nothing_parsed(project: Path, own_cache: Path) -> None:
    rendered(project)
    before = cache.STATS.parsed
    rendered(project)
    cache.forget()  # a fresh process: what was parsed comes from the disk
    rendered(project)
    assert cache.STATS.parsed == before


def test_a_changed_file_is_parsed_again_and_only_it(project: Path, own_cache: Path) -> None:
    assert rendered(project) == []
    parsed = cache.STATS.parsed
    (project / "flows/demo/main.yaml").write_text(MAIN.replace("next: bye", "next: byee"), encoding="utf-8")
    assert rendered(project) == [
        "flows/demo/main.yaml:8:31: error: node 'hello': next 'byee' does not exist (did you mean 'bye'?)"
    ]
    assert cache.STATS.parsed == parsed + 1
    (project / "flows/demo/main.yaml").write_text(MAIN, encoding="utf-8")
    assert rendered(project) == []  # the first version again: known by its content


def test_a_jump_into_a_changed_file_is_checked_again_though_its_file_is_not(project: Path, own_cache: Path) -> None:
    assert rendered(project) == []
    (project / "flows/demo/other.yaml").write_text(
        OTHER.replace("target:", "elsewhere:", 1).replace("start: target", "start: elsewhere")
    )
    assert rendered(project) == [
        "flows/demo/main.yaml:7:31: error: node 'hello': next 'other:target': flow 'other' has no node 'target'"
    ]
    cache.forget()  # the same from the disk, in a fresh process
    assert len(rendered(project)) == 1


def test_a_file_added_or_removed_is_seen(project: Path, own_cache: Path) -> None:
    assert rendered(project) == []
    (project / "flows/demo/other.yaml").unlink()
    assert rendered(project) == [
        "flows/demo/main.yaml:7:31: error: node 'hello': next 'other:target': flow 'other' does not exist; "
        "the flows of this bot are: main; add flows/demo/other.yaml to make it"
    ]
    (project / "flows/demo/other.yaml").write_text(OTHER)
    assert rendered(project) == []


def test_what_a_removed_file_said_leaves_the_disk(project: Path, own_cache: Path) -> None:
    (project / "flows/demo/extra.yaml").write_text(
        "start: only\nnodes:\n  only:\n    type: end\n    text: 'Unmistakable 81723'\n"
    )
    rendered(project)
    (kept,) = cache_files()
    assert b"Unmistakable 81723" in kept.read_bytes()
    (project / "flows/demo/extra.yaml").unlink()
    rendered(project)
    assert b"Unmistakable 81723" not in kept.read_bytes()


def test_a_bot_token_never_reaches_the_disk(project: Path, own_cache: Path) -> None:
    token = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
    (project / "flows/demo/leaky.yaml").write_text(f'start: a\nnodes:\n  a:\n    type: end\n    text: "{token}"\n')
    assert any("looks like a Telegram bot token" in line for line in rendered(project))
    (kept,) = cache_files()
    data = kept.read_bytes()
    assert token.encode() not in data and token.split(":")[1].encode() not in data
    assert b"Here." in data  # the other files are kept
    cache.forget()
    assert any("looks like a Telegram bot token" in line for line in rendered(project))  # parsed afresh


def test_other_code_ignores_the_file(project: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered(project)
    cache.forget()
    monkeypatch.setattr(cache, "code_version", lambda: "another version")
    reads, parsed = cache.STATS.disk_reads, cache.STATS.parsed
    assert rendered(project) == []
    assert cache.STATS.disk_reads == reads and cache.STATS.parsed == parsed + 3  # bot.yaml, main, other


def test_a_file_others_could_have_written_is_not_read(project: Path, own_cache: Path) -> None:
    rendered(project)
    (kept,) = cache_files()
    for mode, where in ((0o666, kept), (0o777, own_cache)):
        cache.forget()
        original = where.stat().st_mode & 0o777
        where.chmod(mode)
        reads = cache.STATS.disk_reads
        assert rendered(project) == []
        assert cache.STATS.disk_reads == reads
        where.chmod(original)
    assert kept.stat().st_mode & 0o077 == 0


def test_a_damaged_file_is_as_if_there_were_none(project: Path, own_cache: Path) -> None:
    rendered(project)
    (kept,) = cache_files()
    kept.write_bytes(pickle.dumps({"version": cache.code_version()}) + b"\x80garbage")
    kept.chmod(0o600)
    cache.forget()
    assert rendered(project) == []


def test_off_keeps_nothing_on_disk(project: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV, "off")
    assert rendered(project) == []
    assert not own_cache.exists()


def test_bots_check_in_fresh_processes(project: Path, own_cache: Path) -> None:
    """Two `bots check` runs, the second finding the parses on disk, print the same."""
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from bots import cli
        from bots.loader import cache
        status = cli.main(["check", sys.argv[1]])
        print("parsed", cache.STATS.parsed, "disk", cache.STATS.disk_reads, file=sys.stderr)
        raise SystemExit(status)
        """
    )
    (project / "flows/demo/main.yaml").write_text(MAIN.replace("next: bye", "next: byee"))
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(project)], capture_output=True, text=True, cwd=project, env=os.environ, timeout=60
        )
        for _ in range(2)
    ]
    assert runs[0].stdout == runs[1].stdout != ""
    assert runs[0].returncode == runs[1].returncode == 1
    assert "parsed 3 disk 0" in runs[0].stderr and "parsed 0 disk 1" in runs[1].stderr


def test_memory_keeps_a_bounded_amount_of_text(own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bots studio` parses every draft typed: the oldest parses make way."""
    from bots.loader.yamlsource import parse_yaml

    monkeypatch.setattr(cache, "MEMORY_TEXT", 10_000)
    for n in range(50):
        parse_yaml(f"start: a\nnodes:\n  a:\n    type: end\n    text: '{n} {'x' * 1000}'\n", "flows/demo/main.yaml")
    assert 0 < cache._memory_text[0] <= 10_000
    assert len(cache._memory) < 50
    parsed = cache.STATS.parsed
    parse_yaml(f"start: a\nnodes:\n  a:\n    type: end\n    text: '49 {'x' * 1000}'\n", "flows/demo/main.yaml")
    assert cache.STATS.parsed == parsed  # the latest are kept
