"""`bots graph`: a flow as Mermaid or DOT text, compared with golden files, and as a picture.

The fixture project `tests/tools/fixtures/graph/` has every node type and every kind of edge:
buttons, conditions, `else`, `empty`, subflow calls (drawn dashed), a jump into another flow,
a flow of a shared folder, and two nodes that nothing reaches. To accept new output after an
intended change, run `BOTS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/tools/test_graph.py`
and read the diff before committing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bots import cli
from bots.engine import Project
from bots.engine.nodes import HandoffNode
from bots.tools import graph
from tests.tools.conftest import FIXTURES, load_fixture

FIXTURE = FIXTURES / "graph"
EXPECTED = FIXTURE / "expected"
UPDATE = os.environ.get("BOTS_UPDATE_GOLDEN") == "1"
GOLDEN = [
    ("demo/main", "mermaid", "demo-main.mmd"),
    ("demo/main", "dot", "demo-main.dot"),
    ("demo", "mermaid", "demo.mmd"),
    ("demo", "dot", "demo.dot"),
]


@pytest.fixture(scope="module")
def project() -> Project:
    return load_fixture("graph")


@pytest.mark.parametrize(("target", "form", "golden"), GOLDEN, ids=[g for _, _, g in GOLDEN])
def test_output_matches_the_golden_file(project: Project, target: str, form: str, golden: str) -> None:
    actual = graph.render(graph.draw(project, target), form)
    path = EXPECTED / golden
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_every_node_is_drawn_with_the_shape_of_its_type(project: Project) -> None:
    text = graph.to_mermaid(graph.draw(project, "demo/main"))
    for line in (
        'n_demo_main__menu{{"menu<br/>choice<br/>What do you need?"}}',
        'n_demo_main__situation[/"situation<br/>input<br/>Where are you?"/]',
        'n_demo_main__route{"route<br/>branch"}',
        'n_demo_main__count[("count<br/>set")]',
        'n_demo_main__programmes[/"programmes<br/>results<br/>These can help:"\\]',
        'n_demo_main__person>"person<br/>handoff<br/>A person will answer you here."]',
        'n_demo_main__bye(["bye<br/>end<br/>Goodbye!"])',
    ):
        assert f"    {line}\n" in text


def test_edges_say_what_takes_them(project: Project) -> None:
    text = graph.to_mermaid(graph.draw(project, "demo/main"))
    assert "  n_demo_main__route -->|\"city == 'Minsk'\"| n_demo_main__programmes\n" in text
    assert '  n_demo_main__route -->|"else"| n_demo_main__count\n' in text
    assert '  n_demo_main__programmes -->|"empty"| n_demo_main__person\n' in text
    assert '  n_demo_main__menu -->|"Just looking"| n_demo_main__bye\n' in text  # an option without `next`
    assert '  n_demo_main__menu -.->|"Leave"| n_ref__demo_leave\n' in text  # a subflow call, dashed
    assert '  n_demo_main__menu -.->|"Safety tips"| n_ref__lib_safety\n' in text  # a shared flow
    assert '  n_demo_main__menu -->|"Go to the card"| n_ref__demo_leave__confirm\n' in text  # a jump
    assert "  class n_demo_main__helper,n_demo_main__orphan unreachable\n" in text


def test_a_whole_bot_draws_calls_and_jumps_into_its_other_flows(project: Project) -> None:
    text = graph.to_mermaid(graph.draw(project, "demo"))
    assert '  subgraph n_flow__demo_leave ["leave"]\n' in text
    assert '  n_demo_main__menu -.->|"Leave"| n_demo_leave__\n' in text
    assert '  n_demo_main__menu -->|"Go to the card"| n_demo_leave__confirm\n' in text
    assert "n_ref__demo_leave" not in text


def test_labels_cannot_break_the_syntax(project: Project) -> None:
    mermaid = graph.to_mermaid(graph.draw(project, "demo/main"))
    welcome = next(line for line in mermaid.splitlines() if line.strip().startswith("n_demo_main__welcome["))
    assert welcome.count('"') == 2  # only the quotes around the label
    assert "#quot;q#quot; [b] {c} #35;1 #amp; #96;d#96;" in welcome
    assert "<b>" not in welcome  # Telegram formatting is dropped
    assert '-->|"Find #lt;help#gt; | #quot;now#quot;"|' in mermaid
    dot = graph.to_dot(graph.draw(project, "demo/main"))
    assert 'label="welcome\\nmessage\\nHi \\"q\\" [b] {c} #1 & `d` |\\\\ {{ user.firs…"' in dot


def test_a_new_target_of_a_node_type_is_drawn_without_changes_here(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node types gain keys (a handoff's `accept` and `decline`): `targets()` is what is drawn."""
    plain = HandoffNode.targets

    def with_accept(self: HandoffNode) -> list[tuple[tuple[str | int, ...], str]]:
        return [*plain(self), (("accept",), "programmes")]

    monkeypatch.setattr(HandoffNode, "targets", with_accept)
    text = graph.to_mermaid(graph.draw(project, "demo/main"))
    assert '  n_demo_main__person -->|"accept"| n_demo_main__programmes\n' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("target", ["demo", "demo/main", "demo/leave", "lib"])
def test_graphviz_reads_the_dot_text(project: Project, target: str, tmp_path: Path) -> None:
    done = subprocess.run(
        ["dot", "-Tsvg"], input=graph.to_dot(graph.draw(project, target)), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout


# --- the command ---------------------------------------------------------------------------------


def bots(*args: str) -> list[str]:
    return ["--project", str(FIXTURE), *args]


@pytest.mark.usefixtures("_restore_logging")
def test_the_command_offers_every_format_and_no_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["graph", "--help"])
    assert "{" + ",".join(graph.FORMATS) + "}" in capsys.readouterr().out


@pytest.mark.usefixtures("_restore_logging")
def test_mermaid_goes_to_standard_output_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(bots("graph", "demo/main")) == 0
    out, err = capsys.readouterr()
    assert out == (EXPECTED / "demo-main.mmd").read_text(encoding="utf-8")
    assert err == ""


@pytest.mark.usefixtures("_restore_logging")
def test_output_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "demo.dot"
    assert cli.main(bots("graph", "demo", "--format", "dot", "-o", str(target))) == 0
    assert target.read_text(encoding="utf-8") == (EXPECTED / "demo.dot").read_text(encoding="utf-8")
    assert capsys.readouterr().err == f"wrote {target}\n"


@pytest.mark.usefixtures("_restore_logging")
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("dmeo", "bots: no bot 'dmeo' (did you mean 'demo'?); the bots and flow folders are: demo, lib\n"),
        ("demo/mian", "bots: demo has no flow 'mian' (did you mean 'main'?); its flows are: leave, main\n"),
    ],
)
def test_an_unknown_bot_or_flow_is_named(target: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(bots("graph", target)) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message)


@pytest.mark.usefixtures("_restore_logging")
@pytest.mark.parametrize("form", ["svg", "png"])
def test_pictures_without_graphviz_say_what_to_do(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without dot
    monkeypatch.chdir(tmp_path)
    assert cli.main(bots("graph", "demo/main", "--format", form)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"bots: drawing {form} needs Graphviz's 'dot' program, which is not installed: "
        "install Graphviz (e.g. 'apt install graphviz') or use --format mermaid or --format dot\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("_restore_logging")
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_is_written_next_to_where_you_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(bots("graph", "demo/main", "--format", "svg")) == 0
    assert capsys.readouterr().err == "wrote demo-main.svg\n"
    assert (tmp_path / "demo-main.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
