"""A loaded project: every bot with its flows, and every catalog. Read-only once built."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bots.engine.model import BotConfig, Catalog, ConversationTest, Flow
from bots.engine.nodes.base import Node


@dataclass
class LoadedBot:
    id: str
    config: BotConfig
    flows: dict[str, Flow] = field(default_factory=dict)
    tests: dict[str, list[ConversationTest]] = field(default_factory=dict)


@dataclass
class Project:
    root: Path
    bots: dict[str, LoadedBot] = field(default_factory=dict)
    catalogs: dict[str, Catalog] = field(default_factory=dict)
    #: moderators' ready-made replies by name (`knowledge/canned.yaml`), in the source language
    canned: dict[str, str] = field(default_factory=dict)

    def flow(self, qualified: str) -> Flow | None:
        """The flow `bot/flow`, or None."""
        bot_id, _, flow_id = qualified.partition("/")
        bot = self.bots.get(bot_id)
        return bot.flows.get(flow_id) if bot else None

    def node(self, qualified_flow: str, node_id: str) -> Node | None:
        flow = self.flow(qualified_flow)
        return flow.node(node_id) if flow else None

    def reached(self, bot_id: str) -> tuple[set[str], set[str]]:
        """Qualified flows and catalogs that a conversation with `bot_id` can reach."""
        todo = [f"{bot_id}/{flow}" for flow in self.bots[bot_id].flows]
        safety = self.bots[bot_id].config.safety
        if safety:  # run from /help
            todo.append(qualify_flow(safety, bot_id))
        flows: set[str] = set()
        catalogs: set[str] = set()
        while todo:
            qualified = todo.pop()
            flow = self.flow(qualified)
            if qualified in flows or flow is None:
                continue
            flows.add(qualified)
            owner = qualified.partition("/")[0]
            for node in flow.nodes.values():
                todo.extend(qualify_flow(ref, owner) for _, ref in node.flow_refs())
                todo.extend(qualify_flow(t.partition(":")[0], owner) for _, t in node.targets() if ":" in t)
                catalogs.update(name for _, name in node.catalog_refs())
        return flows, catalogs


def qualify_flow(reference: str, bot_id: str) -> str:
    """`flow` in bot `bot_id` is `bot_id/flow`; `other/flow` stays as it is."""
    return reference if "/" in reference else f"{bot_id}/{reference}"


def split_target(target: str, current_flow: str) -> tuple[str, str]:
    """Where `next` leads from a node of `current_flow`: `node`, `flow:node` or `bot/flow:node`."""
    if ":" in target:
        flow_ref, _, node_id = target.partition(":")
        return qualify_flow(flow_ref, current_flow.partition("/")[0]), node_id
    return current_flow, target
