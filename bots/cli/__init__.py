"""The `bots` command: argument parsing only; each command calls into the layers below."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bots.loader import Diagnostic, check_path, find_root, load_project
from bots.loader.diagnostics import suggest
from bots.privacy import logsafe
from bots.privacy.logjson import JsonFormatter

log = logging.getLogger("bots")


def _project_root(option: str | None) -> Path:
    if option:
        return Path(option)
    return find_root(Path.cwd()) or Path.cwd()


def _print_diagnostics(diagnostics: Sequence[Diagnostic], out: object = None) -> None:
    stream = out or sys.stdout
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=stream)  # type: ignore[arg-type]


def _load(args: argparse.Namespace):
    """The checked project, or None after printing why it cannot be used."""
    root = _project_root(args.project)
    project, diagnostics = load_project(root)
    if diagnostics.errors:
        _print_diagnostics(diagnostics.sorted(), sys.stderr)
        print(f"bots: {len(diagnostics.errors)} error(s) in the flows; fix them first (see 'bots check')", file=sys.stderr)
        return None
    return project


def _bot_or_none(project, bot: str):
    if bot in project.bots and project.bots[bot].config.start:
        return bot
    names = sorted(b for b, loaded in project.bots.items() if loaded.config.start)
    print(f"bots: no bot '{bot}'{suggest(bot, names)}; the bots are: {', '.join(names) or 'none'}", file=sys.stderr)
    return None


# --- commands ----------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    target = Path(args.path) if args.path else _project_root(args.project)
    if not target.exists():
        print(f"bots: {target}: no such file or folder", file=sys.stderr)
        return 2
    diagnostics = check_path(target)
    _print_diagnostics(diagnostics)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if errors or warnings:
        print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    else:
        print("no problems found", file=sys.stderr)
    return 1 if errors else 0


def _vault(insecure_dev: bool, command: str):  # -> Vault | None | int (an exit status)
    from bots.privacy.vault import ENV, Vault, WeakKey

    try:
        vault = Vault.from_env()
    except WeakKey as err:
        print(f"bots: {err}", file=sys.stderr)
        return 2
    if vault is not None:
        return vault
    if not insecure_dev:
        print(
            f"bots: {command} needs a secret key to protect what it stores: set {ENV} (make one with 'bots keygen'), "
            "or pass --insecure-dev to try the bots with the public development key",
            file=sys.stderr,
        )
        return 2
    print(
        f"bots: no {ENV}: using the local development key; what this database holds is not protected",
        file=sys.stderr,
    )
    return Vault.for_development()


def _api_url(args: argparse.Namespace) -> str | None:
    return args.api_url or os.environ.get("TELEGRAM_API_URL") or None


def _bot_and_vault(args: argparse.Namespace, command: str):  # -> (Project, Vault) | int (an exit status)
    """The project with `args.bot` checked, and the vault: for commands on one bot's data."""
    project = _load(args)
    if project is None:
        return 1
    if _bot_or_none(project, args.bot) is None:
        return 2
    vault = _vault(args.insecure_dev, command)
    if isinstance(vault, int):
        return vault
    return project, vault


def cmd_forget(args: argparse.Namespace) -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bots.i18n.translations import project_translator
    from bots.storage import StoreError, open_store
    from bots.telegram.app import StartupError, forget_person

    try:
        chat_id = int(args.chat)
    except ValueError:
        print(f"bots: --chat takes the person's Telegram chat id (a number), not '{args.chat}'", file=sys.stderr)
        return 2
    loaded = _bot_and_vault(args, "bots forget")
    if isinstance(loaded, int):
        return loaded
    project, vault = loaded
    env = project.bots[args.bot].config.token_env
    token = os.environ.get(env, "").strip()
    api_url = _api_url(args)

    async def forget() -> tuple[int, bool]:
        async with open_store(args.db, vault) as store:
            return await forget_person(
                project, args.bot, chat_id, store, project_translator(project.root), token=token, api_url=api_url
            )

    try:
        calls, sent = asyncio.run(forget())
    except (StartupError, StoreError) as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    print(f"{args.bot}: every row about that person is deleted from the database.")
    if sent:
        print(f"{args.bot}: {calls} deletion(s) made in Telegram (messages under 48 hours old, handoff topics).")
    elif calls:
        print(f"{args.bot}: no token in {env}: {calls} deletion(s) in Telegram wait until the bot next starts.")
    return 0


def cmd_broadcast(args: argparse.Namespace) -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bots.broadcast import command
    from bots.storage import database_location

    loaded = _bot_and_vault(args, "bots broadcast")
    if isinstance(loaded, int):
        return loaded
    project, vault = loaded
    return command(
        project,
        args.bot,
        Path(args.file),
        vault=vault,
        db=database_location(args.db),
        api_url=_api_url(args),
        dry_run_only=args.dry_run,
        drop_unfinished=args.drop_unfinished,
    )


def cmd_keygen(args: argparse.Namespace) -> int:
    from bots.privacy.vault import ENV, new_key

    print(new_key())
    print(f"Keep it secret and set it as {ENV} wherever the bots run; losing it makes the database unreadable.", file=sys.stderr)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bots.console.terminal import ConsoleChat, default_first_name
    from bots.engine import Engine
    from bots.i18n.translations import project_translator
    from bots.loader.watcher import ProjectWatcher
    from bots.storage import StoreError, open_store

    project = _load(args)
    if project is None:
        return 1
    bot = _bot_or_none(project, args.bot)
    if bot is None:
        return 1
    if args.lang and args.lang not in project.bots[bot].config.locales:
        offered = ", ".join(project.bots[bot].config.locales)
        print(f"bots: {bot} does not speak '{args.lang}'; it offers: {offered}", file=sys.stderr)
        return 2
    engine = Engine(project, bot, project_translator(project.root))
    vault = _vault(True, "bots chat")
    if isinstance(vault, int):
        return vault

    async def chat() -> None:
        async with open_store(args.db, vault) as store:
            console = ConsoleChat(
                engine,
                store,
                lang=args.lang,
                first_name=args.name if args.name is not None else default_first_name(),
                restart=args.restart,
                watcher=ProjectWatcher(project.root),
            )
            await console.run()

    try:
        asyncio.run(chat())
    except StoreError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
    except BrokenPipeError:  # the reader went away (`bots chat mara | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from bots.i18n.translations import project_translator
    from bots.tools.testrunner import describe_failure, run_tests

    project = _load(args)
    if project is None:
        return 1
    bots = [b for b in project.bots if project.bots[b].tests]
    if args.bot:
        if _bot_or_none(project, args.bot) is None:
            return 1
        bots = [args.bot]
    coverage = None
    if args.coverage:
        from bots.tools.coverage import Coverage

        coverage = Coverage()
    report = run_tests(project, bots, project_translator(project.root), coverage=coverage)
    for failure in report.failures:
        print(describe_failure(failure))
        print()
    total = report.passed + report.failed
    if total == 0:
        print("no conversation tests found")
        return 1 if args.bot else 0
    if coverage is not None:
        from bots.tools.coverage import report as coverage_report

        print(coverage_report(project, coverage, bots))
        print()
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from bots.tools import schema

    folder = Path(args.output) if args.output else _project_root(args.project) / schema.FOLDER
    if args.check:
        stale = schema.stale(folder)
        for path in stale:
            state = "is out of date" if path.exists() else "is missing"
            print(f"bots: {_shown(path)} {state}: run 'bots schema' and commit the result", file=sys.stderr)
        if not stale:
            print(f"the schemas are up to date ({_shown(folder)})", file=sys.stderr)
        return 1 if stale else 0
    try:
        changed = schema.write(folder)
    except OSError as err:
        print(f"bots: cannot write the schemas to {_shown(folder)}: {err.strerror or err}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {_shown(path)}", file=sys.stderr)
    if not changed:
        print(f"the schemas are up to date ({_shown(folder)})", file=sys.stderr)
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from bots.tools import graph

    project = _load(args)
    if project is None:
        return 1
    try:
        drawing = graph.draw(project, args.target)
        if args.format in graph.TEXT_FORMATS:
            text = graph.render(drawing, args.format)
            if not args.output:
                try:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                except BrokenPipeError:  # the reader went away (`bots graph mara | head`): stop quietly
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 0
            path = Path(args.output)
            path.write_text(text, encoding="utf-8")
        else:
            path = Path(args.output or graph.default_file(args.target, args.format))
            graph.draw_image(graph.to_dot(drawing), args.format, path)
    except graph.GraphError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"bots: cannot write {args.output}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from bots.report import ReportError, build_report, choose_period, render
    from bots.storage import database_location

    project = _load(args)
    if project is None:
        return 1
    if args.bot and _bot_or_none(project, args.bot) is None:
        return 2
    try:
        period = choose_period(args.week, args.since, args.until)
    except ValueError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 2
    bots = [args.bot] if args.bot else sorted(b for b, loaded in project.bots.items() if loaded.config.start)
    output = Path(args.output) if args.output else None
    try:
        report = build_report(project, database_location(args.db), period, bots)
    except ReportError as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    text, charts = render(report, args.format, output)
    if output is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away (`bots report | head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    try:
        for path, svg in charts.items():
            path.write_text(svg, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        print(f"bots: cannot write {err.filename or output}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {output}", file=sys.stderr)
    return 0


def _shown(path: Path) -> str:
    """A path as `bots check` shows files: relative to the working folder if it is inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path.resolve()) if relative.startswith("..") else relative


def cmd_run(args: argparse.Namespace) -> int:
    import signal

    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bots.i18n.translations import project_translator
    from bots.storage import StoreError, open_store
    from bots.telegram.app import RunSettings, StartupError, run_bots

    project = _load(args)
    if project is None:
        return 1
    runnable = sorted(b for b, loaded in project.bots.items() if loaded.config.start)
    names = args.bots or runnable
    for name in names:
        if _bot_or_none(project, name) is None:
            return 2
    settings = RunSettings(
        api_url=_api_url(args),
        webhook_url=args.webhook,
        listen=args.listen,
        port=args.port,
        max_connections=args.max_connections,
        pace=args.pace == "telegram",
        reload=not args.no_reload,
    )
    if args.admin:  # /healthz and /metrics: loopback only unless the operator insists
        from bots.telegram.admin import AddressRefused, check_address

        try:
            settings.admin = check_address(args.admin, public=args.admin_public)
        except AddressRefused as err:
            print(f"bots: {err}", file=sys.stderr)
            return 2
    missing = []
    for name in names:
        env = project.bots[name].config.token_env
        settings.token_envs[name] = env
        token = os.environ.get(env, "").strip()
        if not token:
            missing.append(f"bots: {name}: no token: set the environment variable {env}")
        settings.tokens[name] = token
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 2

    vault = _vault(args.insecure_dev, "bots run")
    if isinstance(vault, int):
        return vault

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with open_store(args.db, vault) as store:
            await run_bots(project, names, store, project_translator(project.root), settings, stop)

    try:
        asyncio.run(serve())
    except (StartupError, StoreError) as err:
        print(f"bots: {err}", file=sys.stderr)
        return 1
    return 0


def cmd_studio(args: argparse.Namespace) -> int:
    from bots.studio import serve

    root = _project_root(args.project)
    if not (root / "flows").is_dir() and not (root / "knowledge").is_dir():
        print(f"bots: {root}: no flows/ or knowledge/ folder here: run 'bots studio' in a project folder", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(root, args.port))
    except OSError as err:
        print(f"bots: cannot listen on 127.0.0.1:{args.port}: {err.strerror or err} (try --port)", file=sys.stderr)
        return 2
    return 0


# --- parsing ---------------------------------------------------------------------------------


def _add_log_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="'text' (default) for people; 'json': one JSON object a line, scrubbed the same way",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bots", description="Telegram bots driven by organisers' YAML flows.")
    parser.add_argument("--project", metavar="DIR", help="the project folder (default: the one holding flows/ here or above)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="check flows, catalogs and tests; exit 1 on errors")
    check.add_argument("path", nargs="?", help="a file or folder to check (default: the whole project)")
    check.set_defaults(func=cmd_check)

    chat = commands.add_parser("chat", help="talk to a bot in the terminal")
    chat.add_argument("bot", help="the bot, e.g. mara")
    chat.add_argument("--lang", help="the language to speak (one of the bot's locales)")
    chat.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    chat.add_argument("--name", help="the first name the bot sees (default: your login name)")
    chat.add_argument("--restart", action="store_true", help="begin again instead of carrying on")
    chat.set_defaults(func=cmd_chat)

    run = commands.add_parser("run", help="run bots on Telegram (all of them with no names)")
    run.add_argument("bots", nargs="*", metavar="BOT", help="the bots to run (default: every bot)")
    run.add_argument("--api-url", help="Bot API base URL, token and method appended (default: $TELEGRAM_API_URL or Telegram's)")
    run.add_argument("--webhook", metavar="URL", help="receive updates by webhook at URL/<bot> instead of long polling")
    run.add_argument("--listen", default="127.0.0.1", help="address the webhook server listens on (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8443, help="port of the webhook server (default 8443)")
    run.add_argument(
        "--max-connections",
        type=int,
        default=40,
        metavar="N",
        help="webhook requests Telegram may have open at once, 1-100 (default 40)",
    )
    run.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    run.add_argument(
        "--pace",
        choices=["telegram", "off"],
        default="telegram",
        help="'telegram' keeps to Telegram's limits (30/s per bot, 1/s per chat, 20/min per group); "
        "'off' only against a local Bot API server without limits, e.g. for benchmarks",
    )
    run.add_argument("--no-reload", action="store_true", help="do not watch flows/, knowledge/ and locales/ for saved changes")
    run.add_argument(
        "--insecure-dev",
        action="store_true",
        help="run without BOTS_SECRET_KEY, on the public development key (never with real people)",
    )
    run.add_argument(
        "--admin", metavar="HOST:PORT", help="serve /healthz and /metrics there, e.g. 127.0.0.1:9100 (loopback only)"
    )
    run.add_argument("--admin-public", action="store_true", help="allow a non-loopback --admin address (behind a firewall only)")
    _add_log_format(run)
    run.set_defaults(func=cmd_run)

    forget = commands.add_parser("forget", help="delete everything about one person, as /forget does")
    forget.add_argument("--bot", required=True, help="the bot the person talked to")
    forget.add_argument("--chat", required=True, help="the person's Telegram chat id")
    forget.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    forget.add_argument("--api-url", help="Bot API base URL (default: $TELEGRAM_API_URL or Telegram's)")
    forget.add_argument("--insecure-dev", action="store_true", help="the database uses the public development key")
    forget.set_defaults(func=cmd_forget)

    broadcast = commands.add_parser("broadcast", help="send a news file (a section per language) to a bot's subscribers")
    broadcast.add_argument("bot", help="the bot whose subscribers get the news")
    broadcast.add_argument("file", help="a Markdown file with a '## <lang>' section per language")
    broadcast.add_argument(
        "--dry-run", action="store_true", help="check and show each language's text and audience; send nothing"
    )
    broadcast.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    broadcast.add_argument("--api-url", help="Bot API base URL (default: $TELEGRAM_API_URL or Telegram's)")
    broadcast.add_argument(
        "--drop-unfinished",
        action="store_true",
        help="give up an earlier broadcast of this bot that was not sent to everyone (else it must be finished first)",
    )
    broadcast.add_argument("--insecure-dev", action="store_true", help="the database uses the public development key")
    _add_log_format(broadcast)
    broadcast.set_defaults(func=cmd_broadcast)

    keygen = commands.add_parser("keygen", help="print a new secret key for BOTS_SECRET_KEY")
    keygen.set_defaults(func=cmd_keygen)

    test = commands.add_parser("test", help="run the conversation tests in flows/*/tests/")
    test.add_argument("bot", nargs="?", help="only this bot's tests")
    test.add_argument("--coverage", action="store_true", help="then show, per flow, the nodes and buttons that no test reaches")
    test.set_defaults(func=cmd_test)

    schema = commands.add_parser("schema", help="write the JSON Schemas that editors use to check the YAML files")
    schema.add_argument("-o", "--output", metavar="DIR", help="the folder to write them to (default: schemas/ in the project)")
    schema.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files differ from what would be written"
    )
    schema.set_defaults(func=cmd_schema)

    graph = commands.add_parser("graph", help="draw a bot's flows, or one flow, as a diagram")
    graph.add_argument("target", metavar="BOT[/FLOW]", help="a bot (all its flows) or one flow, e.g. mara or mara/main")
    graph.add_argument(
        "--format",
        choices=["mermaid", "dot", "svg", "png"],
        default="mermaid",
        help="mermaid (default) or dot text; svg or png are drawn by Graphviz's dot program",
    )
    graph.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default: standard output; for svg and png <bot>[-<flow>].<format>)"
    )
    graph.set_defaults(func=cmd_graph)

    report = commands.add_parser("report", help="write the summary of what the bots did in a week or period, from the counters")
    report.add_argument("--bot", help="only this bot (default: every bot)")
    report.add_argument("--week", metavar="YYYY-Www", help="an ISO week, e.g. 2024-W05 (default: the last complete week)")
    report.add_argument("--since", metavar="DATE", help="the first day, YYYY-MM-DD (instead of --week)")
    report.add_argument("--until", metavar="DATE", help="the last day, included (default with --since: today)")
    report.add_argument("--format", choices=["md", "html", "json"], default="md", help="md (default), html or json")
    report.add_argument("-o", "--output", metavar="FILE", help="write to FILE (Markdown: the charts as SVG files beside it)")
    report.add_argument("--db", help="the database file (default: $BOTS_DB or ./bots.db)")
    report.set_defaults(func=cmd_report)

    studio = commands.add_parser("studio", help="edit, check, try and translate the flows in the browser (local only)")
    studio.add_argument("--port", type=int, default=8765, help="the port on 127.0.0.1 (default 8765; 0 for any free one)")
    studio.set_defaults(func=cmd_studio)

    db = commands.add_parser("db", help="the database: status, upgrade, copy, rekey, backup, restore")
    from bots.cli.db import add_db_parsers
    from bots.ops.commands import add_backup_parsers

    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    add_db_parsers(db_commands)
    add_backup_parsers(db_commands)

    from bots.i18n.workflow import add_i18n_parser

    add_i18n_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    # no text, name, id or token in any log line, exceptions included (see bots.privacy.logsafe); libraries,
    # which log requests with their contents at debug level, are kept at WARNING
    logsafe.install(level, JsonFormatter() if getattr(args, "log_format", "text") == "json" else None)
    try:
        return int(args.func(args))
    except Exception as err:  # an unexpected failure: its place, never its message (it may quote data)
        logging.getLogger("bots").critical("stopped by an unexpected %s", type(err).__name__, exc_info=True)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
