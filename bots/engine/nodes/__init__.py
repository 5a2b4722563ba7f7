"""The node types, by their YAML `type`: the table of contents of what a flow can do.

| type      | class                         |
|-----------|-------------------------------|
| message   | `simple.MessageNode`          |
| choice    | `choice.ChoiceNode`           |
| input     | `input.InputNode`             |
| branch    | `simple.BranchNode`           |
| set       | `simple.SetNode`              |
| results   | `results.ResultsNode`         |
| flow      | `simple.FlowNode`             |
| handoff   | `handoff.HandoffNode`         |
| end       | `simple.EndNode`              |
| subscribe | `subscribe.SubscribeNode`     |
"""

from __future__ import annotations

from bots.engine.nodes.base import NODE_TYPES, Node
from bots.engine.nodes.choice import ChoiceNode, Option
from bots.engine.nodes.handoff import HandoffNode
from bots.engine.nodes.input import InputNode
from bots.engine.nodes.results import ResultsNode
from bots.engine.nodes.simple import BranchNode, EndNode, FlowNode, MessageNode, SetNode
from bots.engine.nodes.subscribe import SubscribeNode

__all__ = [
    "NODE_TYPES",
    "BranchNode",
    "ChoiceNode",
    "EndNode",
    "FlowNode",
    "HandoffNode",
    "InputNode",
    "MessageNode",
    "Node",
    "Option",
    "ResultsNode",
    "SetNode",
    "SubscribeNode",
]
