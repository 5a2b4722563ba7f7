"""Telegram bots that route people to help, on one conversation engine driven by YAML flows."""

from __future__ import annotations

__version__ = "0.1.0"
