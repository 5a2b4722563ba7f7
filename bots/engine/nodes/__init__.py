"""The node types, by their YAML `type`: the table of contents of what a flow can do.

One node type, one file, one class, registered under its `type` by `@node_type`:

| type      | class                         |
|-----------|-------------------------------|
| message   | `message.MessageNode`         |
| choice    | `choice.ChoiceNode`           |
| input     | `input.InputNode`             |
| branch    | `branch.BranchNode`           |
| set       | `set.SetNode`                 |
| results   | `results.ResultsNode`         |
| flow      | `flow.FlowNode`               |
| handoff   | `handoff.HandoffNode`         |
| end       | `end.EndNode`                 |
| subscribe | `subscribe.SubscribeNode`     |

What a node may use while it runs is the `Runtime` protocol (`bots.engine.interfaces`).
"""

# ruff: noqa: I001
# The order of these imports is the order the types are registered in, which messages
# ("the types are: ...") and the JSON Schemas follow: keep it.

from __future__ import annotations

from bots.engine.nodes.base import NODE_TYPES, Node
from bots.engine.nodes.choice import ChoiceNode, Option
from bots.engine.nodes.handoff import HandoffNode
from bots.engine.nodes.input import InputNode
from bots.engine.nodes.results import ResultsNode
from bots.engine.nodes.message import MessageNode
from bots.engine.nodes.branch import BranchNode, Case
from bots.engine.nodes.set import SetNode
from bots.engine.nodes.flow import FlowNode
from bots.engine.nodes.end import EndNode
from bots.engine.nodes.subscribe import SubscribeNode

__all__ = [
    "NODE_TYPES",
    "BranchNode",
    "Case",
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
