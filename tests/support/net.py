"""Loopback ports for the servers a test starts (or for one that nothing listens on)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback TCP port free now: nothing listens on it until the test starts something."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
