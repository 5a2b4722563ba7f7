"""A flow's funnel from the counters: entries per node, who went no further, and the main path.

The engine counts an entry each time a node is entered (`node`, key `flow:node`) and a move
each time the conversation goes from one node to another (`edge`, key `from>to`: into a
subflow, back to its caller, or /back to the previous question). Every entry is followed
by one move out or by none: the conversation ended there, started again, or the person went
idle. So the people who went no further from a node are its entries minus its moves out,
whichever node they went to, and the drop-off does not depend on the order of the file.

The main path is the way most people went: from the start node, each time the node of this
flow that the most moves went to (by figures as published, so a hidden count decides
nothing; ties in the order of `targets()`). The chart follows it; the table lists it first,
then the other nodes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from bots.engine.project import Project, split_target
from bots.report.figures import Figure
from bots.report.model import Funnel, Step


def bot_flows(project: Project, bot_id: str) -> list[str]:
    """The bot's own flows in their order, then the other flows it reaches (shared ones), by name."""
    own = [f"{bot_id}/{flow}" for flow in project.bots[bot_id].flows]
    reached, _ = project.reached(bot_id)
    return own + sorted(reached - set(own))


def _successors(project: Project, qualified: str, node_id: str) -> list[str]:
    """The nodes of the same flow that `node_id` leads to, in the order of `targets()`."""
    node = project.node(qualified, node_id)
    found: list[str] = []
    for _, target in node.targets() if node is not None else ():
        target_flow, target_node = split_target(target, qualified)
        if target_flow == qualified and target_node not in found:
            found.append(target_node)
    return found


def flow_order(project: Project, qualified: str) -> list[str]:
    """The nodes of a flow: the start node, then those it leads to, breadth first in the order
    of `targets()`; then any others in the order of the file."""
    flow = project.flow(qualified)
    if flow is None:
        return []
    order: list[str] = []
    queue = deque([flow.start])
    while queue:
        node_id = queue.popleft()
        if node_id in order or flow.node(node_id) is None:
            continue
        order.append(node_id)
        queue.extend(_successors(project, qualified, node_id))
    return order + [node_id for node_id in flow.nodes if node_id not in order]


def _published(value: float) -> float:
    """A count as far as the report may use it to choose: exact when shown, else just "some"."""
    figure = Figure.of(value)
    return float(figure.exact) if figure.exact is not None else 0.5


def main_path(project: Project, qualified: str, entries: Mapping[str, float], moves: Mapping[str, float]) -> list[str]:
    """The way most people went through the flow (see the module's description). Once people
    were counted in the flow, the path stops where nobody went on within it."""
    flow = project.flow(qualified)
    if flow is None or flow.node(flow.start) is None:
        return []
    entered = any(entries.get(f"{qualified}:{node_id}", 0.0) > 0 for node_id in flow.nodes)
    path = [flow.start]
    while True:
        here = f"{qualified}:{path[-1]}"
        candidates = [n for n in _successors(project, qualified, path[-1]) if n not in path]
        # where moves went that no static reference names (a moderator's "return to" node)
        candidates += sorted(
            {key.partition(">")[2].partition(":")[2] for key in moves if key.startswith(f"{here}>{qualified}:")}
            - set(candidates)
            - set(path)
        )
        candidates = [n for n in candidates if flow.node(n) is not None]

        def weight(node_id: str) -> tuple[float, float]:
            there = f"{qualified}:{node_id}"
            return (_published(moves.get(f"{here}>{there}", 0.0)), _published(entries.get(there, 0.0)))

        weighed = [(weight(n), -index, n) for index, n in enumerate(candidates)]
        if not weighed:
            return path
        best_weight, _, best = max(weighed)
        if entered and best_weight == (0.0, 0.0):
            return path
        path.append(best)


def funnel(project: Project, qualified: str, entries: Mapping[str, float], moves: Mapping[str, float]) -> Funnel:
    """Entries per node of a flow and, when moves were counted in the period, who went no
    further from each (a drop-off only from figures that are shown), main path first."""
    counted_moves = bool(moves)
    moved_out: dict[str, float] = {}
    for key, value in moves.items():
        source = key.partition(">")[0]
        moved_out[source] = moved_out.get(source, 0.0) + value
    path = main_path(project, qualified, entries, moves)
    nodes = path + [node_id for node_id in flow_order(project, qualified) if node_id not in path]
    steps = []
    for node_id in nodes:
        here = f"{qualified}:{node_id}"
        entered = round(entries.get(here, 0.0))
        figure = Figure.of(entered)
        stopped: Figure | None = None
        drop: float | None = None
        if counted_moves:
            went_no_further = max(entered - round(moved_out.get(here, 0.0)), 0)
            stopped = Figure.of(went_no_further)
            if figure.shown and entered > 0 and stopped.shown:
                drop = round(went_no_further * 100 / entered, 1)
        node = project.node(qualified, node_id)
        steps.append(Step(node_id, node.type if node else "", figure, drop, stopped, node_id in path))
    return Funnel(qualified, tuple(steps))
