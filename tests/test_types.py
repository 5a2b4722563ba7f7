"""The package stays mypy-clean (STYLE: type hints everywhere, checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_type_errors_in_the_package() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "bots"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:]
