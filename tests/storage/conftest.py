"""Each storage test runs on both engines: a SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.storage import SQLStore, store_at


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store's database is: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "bots.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(location: str) -> AsyncIterator[SQLStore]:
    async with store_at(location) as opened:
        yield opened
