"""`python -m bots` is the `bots` command."""

from __future__ import annotations

import sys

from bots.cli import main

sys.exit(main())
