"""The graph and test panes: `bots graph`'s drawing and `bots test`'s run, for the page.

The graph is the Mermaid text `bots graph` prints, with a map from each drawn box to its
node and the place it is written, so that the page can highlight the node the chat stands on
and open the editor at a node that is clicked. Running the tests gives the failures as `bots
test` prints them, each with the place of the step that failed, and the coverage per node as
`bots test --coverage` measures it.
"""

from __future__ import annotations

import re
from typing import Any

from bots.loader.diagnostics import Position
from bots.studio.workspace import Good, Loaded
from bots.tools.coverage import Coverage, describe, flows_in_scope, measure
from bots.tools.drawing import ENTRY, GraphError, draw
from bots.tools.graph import to_mermaid
from bots.tools.testrunner import Failure, describe_failure, run_tests


def graph_json(loaded: Loaded, bot: str, flow: str | None = None) -> dict[str, Any]:
    """The drawing of `bot` (or one of its flows) as Mermaid, and what each box stands for."""
    project = loaded.project
    try:
        drawing = draw(project, f"{bot}/{flow}" if flow else bot)
    except GraphError as err:
        return {"error": str(err)}
    boxes: dict[str, dict[str, Any]] = {}
    for cluster in drawing.clusters:
        nodes = project.flow(cluster.flow)
        source = loaded.origins.flows.get(cluster.flow)
        for box in cluster.boxes:
            node_id = box.lines[0] if box.lines else ""  # a node's box shows its id first
            if box.kind == ENTRY or nodes is None or node_id not in nodes.nodes:
                continue
            place = source.at(("nodes", node_id), key=True) if source is not None else None
            boxes[box.id] = {"flow": cluster.flow, "node": node_id, **_place(place)}
    flows = [f"{bot}/{f}" for f in project.bots[bot].flows] if bot in project.bots else []
    return {"mermaid": top_down(to_mermaid(drawing)), "boxes": boxes, "flows": flows}


def top_down(mermaid: str) -> str:
    """`bots graph`'s Mermaid with each flow's box drawn top to bottom as well: Mermaid lays the
    inside of a subgraph out left to right otherwise, too wide for the pane."""
    return re.sub(r"^(\s*)subgraph (.*)$", r"\1subgraph \2\n\1  direction TB", mermaid, flags=re.MULTILINE)


def _place(position: Position | None) -> dict[str, Any]:
    if position is None:
        return {"file": None, "line": None, "column": None}
    return {"file": position.file, "line": position.line, "column": position.column}


def tests_json(good: Good, bot: str) -> dict[str, Any]:
    """`bots test BOT --coverage`: the failures as it prints them, the summary and the coverage."""
    loaded = good.loaded
    project = loaded.project
    coverage = Coverage()
    report = run_tests(project, [bot], good.translator, coverage=coverage)
    failures = [{"text": describe_failure(f), **_place(_step_place(loaded, bot, f))} for f in report.failures]
    total = report.passed + report.failed
    results = measure(project, coverage, flows_in_scope(project, [bot]), dict(loaded.origins.flows))
    reached = {
        f"{result.flow}:{node_id}": (result.flow, node_id) in coverage.nodes
        for result in results
        for node_id in project.flow(result.flow).nodes  # type: ignore[union-attr]
    }
    return {
        "passed": report.passed,
        "failed": report.failed,
        "summary": f"{report.passed} passed, {report.failed} failed" if total else "no conversation tests found",
        "failures": failures,
        "coverage": describe(results) if total else "",
        "reached": reached,
    }


def _step_place(loaded: Loaded, bot: str, failure: Failure) -> Position | None:
    """Where the failing step is written (its `- send:` / `- expect:` line)."""
    for source, index, test in loaded.origins.tests.get(bot, []):
        if source.file == failure.file and test.name == failure.test:
            return source.at((index, "steps", failure.step - 1))
    return None
