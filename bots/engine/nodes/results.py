"""The `results` node: catalog items that match, a button each, with details and paging."""

from __future__ import annotations

import html
from typing import ClassVar, Literal

from pydantic import Field

from bots.engine.catalog import CatalogItem
from bots.engine.interfaces import Runtime
from bots.engine.nodes.base import WAIT, Go, Node, Transition, node_type
from bots.engine.outputs import Button, Chosen, Metric

DEFAULT_LIMIT = 5


@node_type
class ResultsNode(Node):
    """Shows the items of `catalog` for which `filter` is true, a button per item (its title),
    and a `done` button. An item's button shows its details (title, summary, who can apply,
    how to apply, contact, link)
    with the same buttons again; `done` goes on to `next`.

    `filter` is an expression over `item` (the catalog item, with all its fields) and the
    variables. Expired items (`valid_until` in the past) are never shown. `limit` items are
    shown at a time (5 by default); a More button shows the next ones. When nothing matches,
    the conversation goes to `empty` (or says so and goes on at `next`).

    ```yaml
    programmes:
      type: results
      catalog: programmes
      filter: "situation in item.situations and region in item.regions"
      text: "These programmes can help:"
      limit: 5
      done: "Back to the menu"
      empty: nothing_found
      next: menu
    ```
    """

    type: Literal["results"]
    catalog: str
    filter: str = "true"
    text: str | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=20)
    done: str | None = None
    empty: str | None = None
    next: str | None = None

    TEXT_KEYS: ClassVar[tuple[str, ...]] = ("text", "done")
    WAITS: ClassVar[bool] = True

    def next_target(self) -> str | None:
        return self.next

    def enter(self, rt: Runtime) -> Transition:
        today = rt.today
        matches = []
        for item in rt.catalog(self.catalog).items:
            if item.valid_until is not None and item.valid_until < today:
                continue
            if rt.truth(self.filter, ("filter",), item=item.as_variables()):
                matches.append(item.id)
        if not matches:
            if self.empty:
                return Go(self.empty)
            rt.hint("results_none")
            return Go(self.next)
        rt.begin_question()
        rt.state.scratch.update(matches=matches, page=0)
        self.prompt(rt)
        return WAIT

    def _buttons(self, rt: Runtime, *, shown: bool = False) -> list[Button]:
        """The page's buttons; with `shown`, each item on it is counted as shown (reports)."""
        matches: list[str] = rt.state.scratch.get("matches", [])
        page: int = rt.state.scratch.get("page", 0)
        first = page * self.limit
        items = rt.catalog(self.catalog).by_id
        buttons = []
        for index in range(first, min(first + self.limit, len(matches))):
            item = items.get(matches[index])
            if item is not None:
                buttons.append(Button(rt.catalog_text(self.catalog, item, item.title, plain=True), rt.button(f"i{index}")))
                if shown:
                    rt.emit(Metric("item_shown", f"{self.catalog}/{item.id}"))
        if first + self.limit < len(matches):
            buttons.append(Button(rt.builtin("button_more"), rt.button("m")))
        buttons.append(Button(self._done_label(rt), rt.button("d")))
        return buttons

    def _done_label(self, rt: Runtime) -> str:
        return rt.label(self.done, ("done",)) if self.done else rt.builtin("button_continue")

    def prompt(self, rt: Runtime, *, replace: bool = False) -> None:
        count = len(rt.state.scratch.get("matches", []))
        if self.text:
            rt.ask(self.text, self._buttons(rt, shown=True), replace=replace)
        else:
            rt.ask_rendered(rt.builtin("results_found", count=count), self._buttons(rt, shown=True), replace=replace)

    def on_press(self, rt: Runtime, code: str) -> Transition:
        matches: list[str] = rt.state.scratch.get("matches", [])
        if code == "d":
            rt.emit(Chosen(self._done_label(rt)))
            return Go(self.next)
        if code == "m":
            pages = max(1, -(-len(matches) // self.limit))
            rt.state.scratch["page"] = (rt.state.scratch.get("page", 0) + 1) % pages
            self.prompt(rt, replace=True)
            return WAIT
        if code.startswith("i") and code[1:].isdigit() and int(code[1:]) < len(matches):
            item = rt.catalog(self.catalog).by_id.get(matches[int(code[1:])])
            if item is not None:
                rt.emit(Metric("item_opened", f"{self.catalog}/{item.id}"))
                rt.ask_rendered(self._details(rt, item), self._buttons(rt))
                return WAIT
        return super().on_press(rt, code)

    def on_text(self, rt: Runtime, text: str) -> Transition:
        wanted = text.strip().casefold()
        for button in self._buttons(rt):
            if button.label.casefold() == wanted:
                return self.on_press(rt, rt.code_of(button.data))
        return super().on_text(rt, text)

    def _details(self, rt: Runtime, item: CatalogItem) -> str:
        lines = [f"<b>{rt.catalog_text(self.catalog, item, item.title)}</b>"]
        if item.summary:
            lines.append(rt.catalog_text(self.catalog, item, item.summary))
        if item.eligibility:
            lines.append(rt.builtin("item_eligibility", text=rt.catalog_text(self.catalog, item, item.eligibility, plain=True)))
        if item.how_to_apply:
            lines.append(rt.builtin("item_how_to_apply", text=rt.catalog_text(self.catalog, item, item.how_to_apply, plain=True)))
        if item.contact:
            lines.append(rt.builtin("item_contact", contact=rt.catalog_text(self.catalog, item, item.contact, plain=True)))
        if item.url:
            lines.append(html.escape(item.url))
        return "\n\n".join(lines)

    def targets(self) -> list[tuple[tuple[str | int, ...], str]]:
        found = super().targets()
        if self.empty:
            found.append((("empty",), self.empty))
        return found

    def catalog_refs(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("catalog",), self.catalog)]

    def expressions(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("filter",), self.filter)]
