"""Closed-loop load benchmark of Telegram bots against the project's Bot API stand-in.

    .venv/bin/pip install aiogram          # once, for the aiogram bot; not a project dependency
    .venv/bin/python bench/telegram.py --people 50 100 200 [--seconds 20] [--profile /tmp/prof]

One after another, each against a fresh stand-in and in a process of its own: python-telegram-bot 22
(``Application``, its defaults: HTTPX request, updates one at a time unless ``--ptb-concurrent``;
long polling), aiogram 3 with its FSM (skipped when not installed) and the project's bot
(``bots run bench --pace off``: like the reference bots it does not keep to Telegram's limits,
which the stand-in does not enforce; "not available yet" if no answer in 10 s) do one dialogue:
``/start`` -> "What do you need?" + 2 buttons; press the first -> "Your name?"; type a name ->
"Confirm?" + Yes/No; press Yes -> "What do you need?". A person sends a step only once the reply
to the previous one is stored in the stand-in (closed loop); latency runs from pushing the update
to that moment. The load generator shares the stand-in's event loop and learns of replies through
an O(1) per-chat hook on ``BotApiStandin.call`` (the stand-in's ``wait_until`` wakes every waiter
on each change: O(people) per reply). CPU of the bot, of the stand-in + load generator and of all
other processes is sampled over the measured window (2 cores, shared by the bot and the stand-in).
Prints a table; writes JSON to ``bench/results/telegram-<date>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import importlib.metadata as md
import json
import os
import pstats
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# This file is called telegram.py: keep its folder off sys.path so that ``import telegram`` is PTB.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.testing.standin import BotApiStandin, Message, Person
from bots.testing.standin.world import BotState

HERE = Path(__file__).resolve().parent
STEP_TIMEOUT = 10.0
TOKENS = {
    "ptb": "7000001:bench-ptb",
    "aiogram": "7000002:bench-aiogram",
    "ours": "7000003:bench-ours",
    "ours-pg": "7000004:bench-ours-pg",
    "ours-pg2": "7000005:bench-ours-pg2",
}
#: the project's bot on SQLite, on PostgreSQL with one worker, and with two workers on one database
OURS = {"ours": 1, "ours-pg": 1, "ours-pg2": 2}
POSTGRES: Any = None  # the throw-away PostgreSQL server, started when an ours-pg run is asked for
# (what the person does, words the bot's reply must contain)
STEPS = [("start", "What do you need?"), ("press", "Your name?"), ("type", "Confirm?"), ("yes", "What do you need?")]
BOT_YAML = (  # flood control off in effect: a simulated person writes far faster than a real one
    "name: Bench\nstart: main\nsource_locale: en\nlocales: [en]\ntoken_env: BENCH_BOT_TOKEN\n"
    "flood: {messages: 10000, seconds: 1}\n"
)
MAIN_YAML = """\
start: menu
nodes:
  menu: {type: choice, text: "What do you need?", save: need, next: name,
         options: [{label: "Support", value: support}, {label: "Other", value: other}]}
  name: {type: input, kind: text, text: "Your name?", save: name, next: confirm}
  confirm: {type: choice, text: "Confirm?", save: confirmed, next: menu,
            options: [{label: "Yes", value: "yes"}, {label: "No", value: "no"}]}
"""


# -- the reference bots, each run in a subprocess (``--serve ptb|aiogram``) -----------------------
def serve_ptb(api: str, token: str, concurrent: bool) -> None:
    """PTB 22: CommandHandler, CallbackQueryHandler, MessageHandler; state in user_data."""
    from telegram import InlineKeyboardButton as Btn
    from telegram import InlineKeyboardMarkup as Kb
    from telegram import Update, ext

    Context = ext.ContextTypes.DEFAULT_TYPE
    menu = Kb([[Btn("Support", callback_data="support"), Btn("Other", callback_data="other")]])
    yes_no = Kb([[Btn("Yes", callback_data="yes"), Btn("No", callback_data="no")]])

    async def start(update: Update, context: Context) -> None:
        context.user_data["step"] = "menu"  # type: ignore[index]
        await context.bot.send_message(update.effective_chat.id, "What do you need?", reply_markup=menu)  # type: ignore[union-attr]

    async def pressed(update: Update, context: Context) -> None:
        query, data = update.callback_query, context.user_data
        assert query is not None and data is not None and update.effective_chat is not None
        await query.answer()
        if data.get("step") == "menu":
            data.update(step="name", need=query.data)
            await context.bot.send_message(update.effective_chat.id, "Your name?")
        elif data.get("step") == "confirm":
            yes = query.data == "yes"
            data["step"] = "menu" if yes else "name"
            await context.bot.send_message(
                update.effective_chat.id, "What do you need?" if yes else "Your name?", reply_markup=menu if yes else None
            )

    async def typed(update: Update, context: Context) -> None:
        data, message = context.user_data, update.message
        assert data is not None and message is not None
        if data.get("step") == "name":
            data.update(step="confirm", name=message.text)
            await message.reply_text("Confirm?", reply_markup=yes_no)
        else:
            await message.reply_text(message.text or "")  # echo

    app = (
        ext.Application.builder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(concurrent)
        .build()
    )
    app.add_handler(ext.CommandHandler("start", start))
    app.add_handler(ext.CallbackQueryHandler(pressed))
    app.add_handler(ext.MessageHandler(ext.filters.TEXT & ~ext.filters.COMMAND, typed))
    app.run_polling()


def serve_aiogram(api: str, token: str) -> None:
    """aiogram 3: a Router whose handlers are filtered by FSM states (MemoryStorage); long polling."""
    from aiogram import Bot, Dispatcher, F, Router
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.filters import CommandStart
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.state import State, StatesGroup
    from aiogram.types import CallbackQuery
    from aiogram.types import InlineKeyboardButton as Btn
    from aiogram.types import InlineKeyboardMarkup as Kb
    from aiogram.types import Message as TgMessage

    class Form(StatesGroup):
        menu, name, confirm = State(), State(), State()

    menu = Kb(inline_keyboard=[[Btn(text="Support", callback_data="support"), Btn(text="Other", callback_data="other")]])
    yes_no = Kb(inline_keyboard=[[Btn(text="Yes", callback_data="yes"), Btn(text="No", callback_data="no")]])
    router = Router()

    @router.message(CommandStart())
    async def start(message: TgMessage, state: FSMContext) -> None:
        await state.set_state(Form.menu)
        await message.answer("What do you need?", reply_markup=menu)

    @router.callback_query(Form.menu)
    async def chosen(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        await state.update_data(need=query.data)
        await state.set_state(Form.name)
        await query.message.answer("Your name?")  # type: ignore[union-attr]

    @router.message(Form.name, F.text)
    async def named(message: TgMessage, state: FSMContext) -> None:
        await state.update_data(name=message.text)
        await state.set_state(Form.confirm)
        await message.answer("Confirm?", reply_markup=yes_no)

    @router.callback_query(Form.confirm)
    async def confirmed(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        yes = query.data == "yes"
        await state.set_state(Form.menu if yes else Form.name)
        await query.message.answer(
            "What do you need?" if yes else "Your name?",  # type: ignore[union-attr]
            reply_markup=menu if yes else None,
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    asyncio.run(dispatcher.start_polling(Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))))


# -- the load side ------------------------------------------------------------------------------
Waiter = tuple[str, asyncio.Future[tuple[float, int]]]  # (expected words, resolved with (time, message id))


class Standin(BotApiStandin):
    """The stand-in plus an O(1) hook that resolves a person's pending step when the reply is stored."""

    def __init__(self, token: str) -> None:
        super().__init__(tokens=[token], call_log_size=0, http_control=False)
        self.waiting: dict[int, Waiter] = {}

    async def call(
        self, bot: BotState, method: str, raw: dict[str, Any], uploads: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        status, body = await super().call(bot, method, raw, uploads)
        result = body.get("result")
        if status == 200 and isinstance(result, dict) and "chat" in result:  # a message sent or edited
            waiter = self.waiting.get(result["chat"]["id"])
            if waiter is not None and waiter[0] in (result.get("text") or "") and not waiter[1].done():
                waiter[1].set_result((time.perf_counter(), result["message_id"]))
        return status, body


@dataclass
class Window:
    """The measured window and what was counted in it (steps answered inside it, their latencies)."""

    start: float = float("inf")
    end: float = float("inf")
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    timeouts: int = 0


async def step(api: Standin, who: Person, kind: str, expect: str, msg: Message | None) -> tuple[float, float, int]:
    """One step: push the update, await the reply; (pushed at, answered at, reply's message id)."""
    future: asyncio.Future[tuple[float, int]] = asyncio.get_running_loop().create_future()
    api.waiting[who.id] = (expect, future)
    began = time.perf_counter()
    try:
        if kind == "start":
            await api.send_text(who, "/start")
        elif kind == "type":
            await api.send_text(who, who.first_name)
        else:
            assert msg is not None and msg.buttons, "the reply has no buttons"
            await api.press(who, msg, msg.buttons[0][0][0] if kind == "press" else "Yes")
        answered, message_id = await asyncio.wait_for(future, STEP_TIMEOUT)
    finally:
        api.waiting.pop(who.id, None)
    return began, answered, message_id


async def person(api: Standin, who: Person, window: Window) -> None:
    """Rounds of the dialogue, each step sent when the previous one is answered, until the end."""
    state = api.chat_state(who)[0]
    while time.perf_counter() < window.end:
        msg: Message | None = None
        for kind, expect in STEPS:
            if time.perf_counter() >= window.end:
                return
            try:
                began, answered, message_id = await step(api, who, kind, expect, msg)
            except (TimeoutError, AssertionError, LookupError, ValueError):
                window.timeouts += window.start <= time.perf_counter() <= window.end + STEP_TIMEOUT
                break  # begin a new round with /start
            if window.start <= answered <= window.end:
                window.completed += 1
                if began >= window.start:
                    window.latencies.append(answered - began)
            msg = state.messages.get(message_id)


def jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def database_pids() -> list[int]:
    """The PostgreSQL server's processes (the postmaster and its children), when it is ours."""
    if POSTGRES is None:
        return []
    try:
        postmaster = int((POSTGRES.folder / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    found = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                found.append(int(stat.parent.name))
    return found


def cpu_of(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend may end between the listing and the read
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(stat[11]) + int(stat[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_sample(pids: list[int]) -> tuple[float, float, int, int]:
    """CPU seconds of this process and of the bot's ``pids``, and the machine's (busy, total) jiffies."""
    ticks = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(stat[11]) + int(stat[12])
    return (time.process_time(), ticks / os.sysconf("SC_CLK_TCK"), *jiffies())


async def wait_quiet(limit: float) -> None:
    """Wait up to ``limit`` s for other jobs on the machine to use less than a fifth of a core."""
    deadline = time.perf_counter() + limit
    while limit > 0 and time.perf_counter() < deadline:
        busy0, all0 = jiffies()
        await asyncio.sleep(1)
        busy1, all1 = jiffies()
        if (busy1 - busy0) / max(all1 - all0, 1) * (os.cpu_count() or 1) < 0.2:
            return
    if limit > 0:
        print(f"  (the machine is still busy after {limit:.0f} s: others' CPU skews this run)", flush=True)


def where_time_goes(profile: str, top: int = 7) -> dict[str, float]:
    """Share (%) of a profile's own time per package or stdlib module, largest first; I/O waits left out."""
    by: dict[str, float] = {}
    for (path, _line, name), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if "epoll" not in name:  # epoll: waiting for I/O, not work
            head = re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", path.replace(f"{HERE.parent}/", "")).split("/")[0]
            key = {"~": "builtins", "bench": "load generator", "bots": "bots.testing.standin"}.get(head, head.removesuffix(".py"))
            by[key] = by.get(key, 0.0) + tottime
    total = sum(by.values()) or 1.0
    return {k: round(v / total * 100, 1) for k, v in sorted(by.items(), key=lambda kv: -kv[1])[:top]}


def bot_command(name: str, api: Standin, work: Path, args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start bot ``name`` against ``api``."""
    env = {**os.environ, "PTB_TIMEDELTA": "true"}
    if name in OURS:
        (work / "flows" / "bench").mkdir(parents=True, exist_ok=True)
        (work / "flows" / "bench" / "bot.yaml").write_text(BOT_YAML)
        (work / "flows" / "bench" / "main.yaml").write_text(MAIN_YAML)
        env.update(TELEGRAM_API_URL=api.base_url, BENCH_BOT_TOKEN=TOKENS[name])
        bots = str(Path(sys.executable).parent / "bots")
        command = [bots, "--project", str(work), "run", "bench", "--insecure-dev", "--pace", "off", "--no-reload"]
        if name == "ours":
            return [*command, "--db", str(work / "bench.db")], env
        env["BOTS_DATABASE_URL"] = args.database_url  # a fresh database for the run, shared by its workers
        return command, env
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", name, "--api", api.url, "--token", TOKENS[name]]
    cmd += ["--ptb-concurrent"] if args.ptb_concurrent else []
    cmd += ["--profile-out", str(Path(args.profile) / f"{name}-{args.current_people}.prof")] if args.profile else []
    return cmd, env


async def run_one(name: str, people: int, args: argparse.Namespace) -> dict[str, Any]:
    """One bot under ``people`` simulated people, against a fresh stand-in."""
    row: dict[str, Any] = {"bot": name, "people": people}
    args.current_people = people
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        work, log = Path(tmp), Path(tmp) / "bot.log"
        async with Standin(TOKENS[name]) as api:
            if name in OURS and name != "ours":
                args.database_url = args.pg_url or POSTGRES.new_database()
            cmd, env = bot_command(name, api, work, args)
            procs = []
            with log.open("wb") as out:
                try:
                    for _ in range(OURS.get(name, 1)):
                        procs.append(
                            await asyncio.create_subprocess_exec(
                                *cmd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
                            )
                        )
                except OSError as exc:
                    return {**row, "status": f"not available yet: {exc}"}
            proc = procs[0]
            try:
                ready = asyncio.ensure_future(step(api, api.user("Probe"), "start", STEPS[0][1], None))
                exited = asyncio.ensure_future(proc.wait())
                await asyncio.wait([ready, exited], timeout=args.ready_timeout, return_when=asyncio.FIRST_COMPLETED)
                if not ready.done() or ready.exception() is not None:
                    ready.cancel()
                    why = f"exited with {proc.returncode}" if exited.done() else f"no reply in {args.ready_timeout:.0f} s"
                    tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
                    return {
                        **row,
                        "status": ("not available yet: " if name in OURS else "failed: ") + why,
                        "log_tail": tail[-400:],
                    }
                return {**row, **await measure(api, [p.pid for p in procs], people, args, name)}
            finally:
                for proc in procs:
                    if proc.returncode is None:
                        proc.send_signal(signal.SIGINT)
                for proc in procs:
                    try:
                        await asyncio.wait_for(proc.wait(), 15)
                    except TimeoutError:
                        proc.kill()
                        await proc.wait()


async def measure(api: Standin, pids: list[int], people: int, args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Run the crowd: warm-up, then the measured window with CPU samples (and profiles) around it."""
    window = Window()
    crowd = [api.user(f"P{i}") for i in range(people)]
    window.start = time.perf_counter() + args.warmup
    window.end = window.start + args.seconds
    tasks = [asyncio.create_task(person(api, who, window)) for who in crowd]
    profiler = cProfile.Profile() if args.profile else None
    signals = profiler is not None and name not in OURS  # the reference bots profile themselves on signals
    pid = pids[0]
    await asyncio.sleep(window.start - time.perf_counter())
    (cpu0, bot0, busy0, all0), req0 = cpu_sample(pids), api.requests
    db_pids = database_pids()
    db0 = cpu_of(db_pids)
    if profiler:
        os.kill(pid, signal.SIGUSR1) if signals else None
        profiler.enable()
    await asyncio.sleep(window.end - time.perf_counter())
    if profiler:
        profiler.disable()
        os.kill(pid, signal.SIGUSR2) if signals else None
    (cpu1, bot1, busy1, all1), req1 = cpu_sample(pids), api.requests
    db1 = cpu_of(db_pids)
    wall = time.perf_counter() - window.start
    _done, pending = await asyncio.wait(tasks, timeout=2)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    lat = sorted(window.latencies)
    pick = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2)) if lat else (lambda q: None)
    busy = (busy1 - busy0) / max(all1 - all0, 1) * 100
    result: dict[str, Any] = {
        "status": "ok",
        "steps": window.completed,
        "steps_per_s": round(window.completed / args.seconds, 1),
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "timeouts": window.timeouts,
        "http_per_step": round((req1 - req0) / max(window.completed, 1), 2),
        "cpu_bot_pct": round((bot1 - bot0) / wall * 100),
        "cpu_standin_pct": round((cpu1 - cpu0) / wall * 100),
        "machine_busy_pct": round(busy),
        "cpu_db_pct": round((db1 - db0) / wall * 100) if name in OURS and name != "ours" else 0,
    }
    # % of a core used by every other process: other people's jobs skew a run; rerun when this is high
    result["cpu_others_pct"] = max(
        0, round(busy * (os.cpu_count() or 1)) - result["cpu_bot_pct"] - result["cpu_standin_pct"] - result["cpu_db_pct"]
    )
    if profiler:
        path = str(Path(args.profile) / f"standin-{name}-{people}.prof")
        profiler.dump_stats(path)
        result["standin_profile"] = where_time_goes(path)
    return result


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for dist in ("python-telegram-bot", "aiogram", "aiohttp", "httpx"):
        with contextlib.suppress(md.PackageNotFoundError):
            found[dist] = md.version(dist)
    return found


HEADER = (
    f"{'bot':<8} {'people':>6} {'steps/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'t/o':>4} {'HTTP/step':>9} "
    f"{'bot CPU':>7} {'stand-in CPU':>12} {'DB CPU':>6} {'others':>7}"
)


def print_row(r: dict[str, Any]) -> None:
    if r.get("status") == "ok" and not r.get("steps"):
        r = {**r, "status": "no step completed in the window"}
    if r.get("status") != "ok":
        print(f"{r['bot']:<8} {r['people']:>6}  {r['status']}" + (f"  [{r['log_tail']}]" if r.get("log_tail") else ""))
    else:
        print(
            f"{r['bot']:<8} {r['people']:>6} {r['steps_per_s']:>8,.0f} {r['p50_ms']:>7} {r['p99_ms']:>7} "
            f"{r['timeouts']:>4} {r['http_per_step']:>9} {r['cpu_bot_pct']:>6}% {r['cpu_standin_pct']:>11}% "
            f"{r.get('cpu_db_pct', 0):>5}% {r['cpu_others_pct']:>6}%",
            flush=True,
        )


async def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    names = [n for n in ("ptb", "aiogram", *OURS) if n in args.bots and (n not in OURS or args.ours)]
    rows: list[dict[str, Any]] = []
    print(HEADER, "-" * len(HEADER), sep="\n", flush=True)
    for people in args.people:
        for name in names:
            if name == "aiogram" and "aiogram" not in versions():
                rows.append(
                    {"bot": name, "people": people, "status": "skipped: aiogram is not installed (.venv/bin/pip install aiogram)"}
                )
            else:
                await wait_quiet(args.quiet_wait)
                rows.append(await run_one(name, people, args))
            print_row(rows[-1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[100], help="people at once (several: a run each)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument(
        "--bots",
        nargs="+",
        default=["ptb", "aiogram", "ours"],
        choices=["ptb", "aiogram", *OURS],
        help="ours-pg: on PostgreSQL, one worker; ours-pg2: two workers on one PostgreSQL database",
    )
    parser.add_argument("--ours", action=argparse.BooleanOptionalAction, default=True, help="run the project's bot")
    parser.add_argument("--ptb-concurrent", action="store_true", help="PTB with concurrent_updates (default off)")
    parser.add_argument(
        "--pg-sync",
        choices=["on", "off"],
        default="off",
        help="PostgreSQL's synchronous_commit for ours-pg runs (off: like SQLite's synchronous=NORMAL)",
    )
    parser.add_argument("--pg-url", help="an empty PostgreSQL database for one ours-pg run, instead of a throw-away server")
    parser.add_argument("--ready-timeout", type=float, default=10.0, help="seconds for a bot's first reply")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="seconds to wait for an idle machine")
    parser.add_argument("--profile", metavar="DIR", help="cProfile the stand-in and the reference bots (window only)")
    parser.add_argument("--json", metavar="PATH", help="default: bench/results/telegram-<date>.json")
    for hidden in ("--serve", "--api", "--token", "--profile-out"):  # the subprocess running a reference bot
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        if args.profile_out:  # profile the measured window only: SIGUSR1 starts, SIGUSR2 stops and writes
            profiler = cProfile.Profile()
            signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
            signal.signal(signal.SIGUSR2, lambda *_: (profiler.disable(), profiler.dump_stats(args.profile_out)))
        serve_ptb(args.api, args.token, args.ptb_concurrent) if args.serve == "ptb" else serve_aiogram(args.api, args.token)
        return
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    if "aiogram" in args.bots and "aiogram" not in versions():
        print("aiogram is not installed: its bot is skipped (.venv/bin/pip install aiogram)", file=sys.stderr)
    print(f"{os.cpu_count()} CPUs, {args.seconds:.0f} s measured after {args.warmup:.0f} s warm-up, people {args.people}")
    global POSTGRES
    if any(n in args.bots for n in OURS if n != "ours") and not args.pg_url:
        from tests.support import postgres

        reason = postgres.missing_reason()
        if reason is not None:
            sys.exit(f"the ours-pg runs need a PostgreSQL server: {reason}")
        POSTGRES = postgres.start_server(durable=True)
        if args.pg_sync == "off":  # commits as durable as SQLite's synchronous=NORMAL (see bench/README.md)
            POSTGRES.psql("ALTER SYSTEM SET synchronous_commit = off")
            POSTGRES.psql("SELECT pg_reload_conf()")
    try:
        rows = asyncio.run(bench(args))
    finally:
        if POSTGRES is not None:
            postgres.remove(POSTGRES)
    for row in rows if args.profile else []:
        prof = Path(args.profile) / f"{row['bot']}-{row['people']}.prof"
        if row["bot"] != "ours" and prof.exists():
            row["bot_profile"] = where_time_goes(str(prof))
        for key in ("bot_profile", "standin_profile"):
            if key in row:
                print(f"{row['bot']} x{row['people']} {key}: " + ", ".join(f"{k} {v}%" for k, v in row[key].items()))
    out = Path(args.json) if args.json else HERE / "results" / f"telegram-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "cpus": os.cpu_count(),
        "versions": versions(),
        "seconds": args.seconds,
        "warmup": args.warmup,
        "ptb_concurrent_updates": args.ptb_concurrent,
        "results": rows,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
