"""Run the stand-in standalone: ``python -m bots.testing.standin --port 8081 --token 123:ABC``.

Prints the base URL for python-telegram-bot (``base_url``) and serves until interrupted;
drive it through the ``/_standin/`` HTTP control API (see ``httpcontrol.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from bots.testing.standin.control import DEFAULT_TOKEN, BotApiStandin


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bots.testing.standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one; default 8081)")
    parser.add_argument("--token", action="append", help="bot token, repeatable (default: a test token)")
    parser.add_argument(
        "--user", action="append", default=[], metavar="FIRST_NAME", help="create a person at start (repeatable); ids are printed"
    )
    parser.add_argument("--webhook-retry-delay", type=float, default=0.5, help="first webhook retry back-off (s)")
    parser.add_argument("--call-log-size", type=int, default=10_000, help="calls kept for /_standin/calls (0: off)")
    parser.add_argument("--max-messages-per-chat", type=int, default=1000, help="messages kept per chat")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Start the stand-in, print where it is, and run until SIGINT/SIGTERM."""
    api = BotApiStandin(
        tokens=args.token or [DEFAULT_TOKEN],
        host=args.host,
        port=args.port,
        webhook_retry_delay=args.webhook_retry_delay,
        call_log_size=args.call_log_size,
        max_messages_per_chat=args.max_messages_per_chat,
    )
    async with api:
        for name in args.user:
            person = api.user(name)
            print(f"user {person.id} {name}", flush=True)
        print(f"base_url {api.base_url}", flush=True)
        print(f"base_file_url {api.base_file_url}", flush=True)
        print(f"control {api.url}/_standin/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
