"""The counters of where conversations go: an entry per node entered and a move (`edge`) per
step from one node to the next, so that entries minus moves out is who stopped at a node."""

from __future__ import annotations

from collections import Counter

from bots.console.session import Conversation
from bots.engine import events as ev
from bots.engine.outputs import Metric

MAIN = """\
start: hello
nodes:
  hello:
    type: message
    text: "Hello."
    next: menu
  menu:
    type: choice
    text: "What now?"
    options:
      - {label: "Ask", next: ask}
      - {label: "Tips", flow: tips}
      - {label: "Person", next: person}
    next: bye
  person:
    type: handoff
    text: "A person will answer."
    next: bye
  ask:
    type: input
    kind: number
    text: "How many?"
    save: count
    next: bye
  bye:
    type: end
    text: "Bye."
"""

TIPS = """\
start: one
nodes:
  one:
    type: message
    text: "Tip one."
    next: two
  two:
    type: message
    text: "Tip two."
"""


class Counted:
    """A conversation whose counters are added up over all its steps."""

    def __init__(self, conversation: Conversation) -> None:
        self.c = conversation
        self.totals: Counter[tuple[str, str]] = Counter()

    def __call__(self, how: str, value: str | ev.Event) -> None:
        if isinstance(value, ev.Event):
            self.c.handle(value)
        elif how == "press":
            self.c.press(value)
        else:
            self.c.send(value)
        self.totals.update((m.name, m.key) for m in self.c.metrics)

    def entries(self, node: str) -> int:
        return self.totals[("node", f"demo/{node}")]

    def moves(self) -> Counter[str]:
        return Counter({key: n for (name, key), n in self.totals.items() if name == "edge"})

    def stopped(self, node: str) -> int:
        out = sum(n for key, n in self.moves().items() if key.startswith(f"demo/{node}>"))
        return self.entries(node) - out


def counted(chat) -> Counted:
    return Counted(chat(MAIN, **{"flows/demo/tips.yaml": TIPS}))


def test_each_move_is_counted_from_the_node_left_to_the_node_entered(chat):
    step = counted(chat)
    step("send", "/start")
    step("press", "Ask")
    step("send", "3")
    assert step.moves() == Counter({
        "demo/main:hello>demo/main:menu": 1,
        "demo/main:menu>demo/main:ask": 1,
        "demo/main:ask>demo/main:bye": 1,
    })  # fmt: skip
    assert [step.stopped(node) for node in ("main:hello", "main:menu", "main:ask")] == [0, 0, 0]
    assert step.stopped("main:bye") == 1  # the conversation ended there


def test_a_subflow_is_entered_and_left_like_any_node(chat):
    step = counted(chat)
    step("send", "/start")
    step("press", "Tips")
    moves = step.moves()
    assert moves["demo/main:menu>demo/tips:one"] == 1
    assert moves["demo/tips:two>demo/main:bye"] == 1  # back in the caller: tip two was not the end
    assert step.stopped("tips:one") == step.stopped("tips:two") == 0


def test_who_stops_at_a_question_is_not_counted_as_moving_on(chat):
    step = counted(chat)
    step("send", "/start")
    step("press", "Ask")
    step("send", "/start")  # gave up the question and began again
    assert step.entries("main:ask") == 1 and step.stopped("main:ask") == 1
    assert step.entries("main:menu") == 2 and step.stopped("main:menu") == 1  # the menu waits again


def test_going_back_is_a_move_and_enters_the_question_again(chat):
    step = counted(chat)
    step("send", "/start")
    step("press", "Ask")
    step("send", "/back")
    assert step.moves()["demo/main:ask>demo/main:menu"] == 1
    assert step.entries("main:menu") == 2
    step("press", "Ask")
    step("send", "4")
    assert [step.stopped(node) for node in ("main:hello", "main:menu", "main:ask")] == [0, 0, 0]


def test_a_handoff_closed_moves_on_from_the_handoff(chat):
    step = counted(chat)
    step("send", "/start")
    step("press", "Person")
    assert step.stopped("main:person") == 1  # waiting for the moderators
    step("event", ev.HandoffClosed(how="closed"))
    assert step.moves()["demo/main:person>demo/main:bye"] == 1
    assert step.stopped("main:person") == 0


def test_the_counters_name_nodes_only(chat):
    step = counted(chat)
    step("send", "/start")
    step("press", "Ask")
    step("send", "12345")
    keys = [key for _, key in step.totals]
    assert all(set(key) <= set("abcdefghijklmnopqrstuvwxyz_/:>") for key in keys), keys
    assert {name for name, _ in step.totals} >= {"node", "edge"}
    assert all(isinstance(m, Metric) for m in step.c.metrics)
