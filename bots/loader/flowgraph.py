"""The graph of a project's nodes: where each can lead, what is reachable, what may be set.

Nodes are `(qualified flow, node id)`. Edges follow `next`-like references and enter the
flows that `flow` nodes and options call. A call node counts as setting whatever its callee
may set, which keeps the "may be set" analysis simple without modelling returns.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from bots.engine import expressions
from bots.engine.model import Flow
from bots.engine.nodes import ResultsNode, SetNode
from bots.engine.nodes.base import Node
from bots.engine.project import Project, qualify_flow, split_target
from bots.loader.yamlsource import PathKey

NodeKey = tuple[str, str]  # (qualified flow, node id)


class MaySet:
    """Which variables may have been set on arriving at each node (bit sets, kept compact)."""

    def __init__(self, arriving: dict[NodeKey, int], bits: dict[str, int]) -> None:
        self.arriving = arriving
        self.bits = bits

    def has(self, key: NodeKey, name: str) -> bool:
        bit = self.bits.get(name)
        return bit is not None and bool(self.arriving.get(key, 0) >> bit & 1)


class FlowGraph:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.edges: dict[NodeKey, list[NodeKey]] = defaultdict(list)
        for flow_id, flow in self.flows():
            for node_id, node in flow.nodes.items():
                out = self.edges[(flow_id, node_id)]
                out += [split_target(target, flow_id) for _, target in node.targets()]
                for _, ref in node.flow_refs():
                    callee = qualify_flow(ref, flow_id.partition("/")[0])
                    callee_flow = project.flow(callee)
                    if callee_flow is not None:
                        out.append((callee, callee_flow.start))

    def flows(self) -> Iterable[tuple[str, Flow]]:
        for bot in self.project.bots.values():
            for flow_id, flow in bot.flows.items():
                yield f"{bot.id}/{flow_id}", flow

    def reach(self, roots: Iterable[NodeKey], within: str | None = None) -> set[NodeKey]:
        """Nodes reachable from `roots` (staying in flow `within`, if given)."""
        seen: set[NodeKey] = set()
        queue = deque(roots)
        while queue:
            key = queue.popleft()
            if key in seen or (within is not None and key[0] != within):
                continue
            seen.add(key)
            queue.extend(self.edges.get(key, ()))
        return seen

    def entered_from_elsewhere(self) -> set[NodeKey]:
        """Nodes that a node of another flow leads to (jump targets and called starts)."""
        return {t for source, targets in self.edges.items() for t in targets if t[0] != source[0]}

    def saves(self, node: Node, flow_id: str, seen: frozenset[str] = frozenset()) -> list[str]:
        """Variables a node may set, including all that the flows it calls may set."""
        names = list(node.saves())
        for _, ref in node.flow_refs():
            callee = qualify_flow(ref, flow_id.partition("/")[0])
            callee_flow = self.project.flow(callee)
            if callee in seen or callee_flow is None:
                continue
            for inner in callee_flow.nodes.values():
                names += self.saves(inner, callee, seen | {callee})
        return names

    def may_be_set(self, start: NodeKey) -> tuple[MaySet, set[NodeKey]]:
        """For each node reachable from `start`, the variables some path to it may have set.

        A forward data-flow analysis to a fixed point, a bit per variable.
        """
        reachable = self.reach([start])
        bits: dict[str, int] = {}

        def mask(names: Iterable[str]) -> int:
            value = 0
            for name in names:
                value |= 1 << bits.setdefault(name, len(bits))
            return value

        sets = {}
        for key in reachable:
            node = self.project.node(*key)
            if node is not None:
                sets[key] = mask(self.saves(node, key[0]))
        arriving = {key: 0 for key in reachable}
        queue = deque(self._bfs_order(start))  # every node at least once, roughly in flow order
        queued = set(queue)
        while queue:
            key = queue.popleft()
            queued.discard(key)
            leaving = arriving[key] | sets.get(key, 0)
            for target in self.edges.get(key, ()):
                if target in arriving and arriving[target] | leaving != arriving[target]:
                    arriving[target] |= leaving
                    if target not in queued:
                        queued.add(target)
                        queue.append(target)
        return MaySet(arriving, bits), reachable

    def _bfs_order(self, start: NodeKey) -> list[NodeKey]:
        order = [start]
        seen = {start}
        for key in order:
            for target in self.edges.get(key, ()):
                if target not in seen:
                    seen.add(target)
                    order.append(target)
        return order


def reads(node: Node) -> list[tuple[PathKey, str]]:
    """(path of the key, variable) for every variable a node's texts and expressions read."""
    found: list[tuple[PathKey, str]] = []
    for path, text in node.templates():
        if expressions.check_template(text) is None:
            found += [(path, name) for name in sorted(expressions.template_variables(text))]
    earlier: set[str] = set()
    for path, source in node.expressions():
        if expressions.check_expression(source) is None:
            names = expressions.expression_variables(source)
            if isinstance(node, ResultsNode):
                names.discard("item")
            found += [(path, name) for name in sorted(names - earlier)]
        if isinstance(node, SetNode):
            earlier.add(str(path[-1]))
    return found
