"""A catalog of `knowledge/`: the items a `results` node shows, with the fields `filter` reads.

Apart from the other models (`bots.engine.model`) because a node reads catalogs at run time
through the `Runtime` interface, which must not depend on the node types.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CatalogItem(BaseModel):
    """One item of a catalog. Fields beyond these are free and usable in `filter`."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1)
    summary: str | None = None
    #: extension: who can apply, shown in the item's details
    eligibility: str | None = None
    #: extension: how to apply, shown in the item's details
    how_to_apply: str | None = None
    contact: str | None = None
    url: str | None = None
    valid_until: dt.date | None = None

    @functools.cached_property
    def variables(self) -> dict[str, Any]:
        data = dict(self.model_extra or {})
        data.update(
            id=self.id,
            title=self.title,
            summary=self.summary,
            eligibility=self.eligibility,
            how_to_apply=self.how_to_apply,
            contact=self.contact,
            url=self.url,
        )
        data["valid_until"] = self.valid_until.isoformat() if self.valid_until else None
        return data

    def as_variables(self) -> dict[str, Any]:
        """The item as `filter` sees it."""
        return self.variables


class Catalog(BaseModel):
    """`knowledge/<catalog>.yaml`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)

    catalog: str = Field(pattern=r"^[a-z0-9_-]+$")
    items: list[CatalogItem] = Field(default_factory=list)

    @functools.cached_property
    def by_id(self) -> dict[str, CatalogItem]:
        return {item.id: item for item in self.items}
