"""`bots` processes forked from an interpreter that has imported the package once.

Most end-to-end tests start `bots run` (or another command) as a process of its own, about
ninety times in a run of the suite; each `python -m bots` spent about half a second of CPU
importing python-telegram-bot, aiohttp, pydantic and the engine before doing anything, which
was a third of the suite's CPU. The zygote imports them once per test process and forks a
child for each command: the child is a real process (its own pid, signals, exit status,
stdin/stdout/stderr on pipes) running `bots.cli.main(argv)` with its own environment and
working folder, exactly what `python -m bots` runs after its imports.

`BOTS_TEST_EXEC=1` makes the tests start every command with `python -m bots` instead (what
CI-independent checks or a suspicion about the zygote want); the console and broken-file
tests always do.

`BOTS_ZYGOTE_CPU=PREFIX` makes each zygote write, when it ends, the CPU seconds it and its
children used to `PREFIX-<pid>` (they are not counted by `time` on the test run: the zygote
is not a child that pytest waits for).

Protocol, on a UNIX socket: the client sends one JSON line (argv, env, cwd) with three file
descriptors (stdin, stdout, stderr) attached; the zygote answers `pid\\n`, and later
`status\\n` when the child has ended (an exit code, or -N for signal N, as subprocess does).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ("bots.cli", "bots.cli.run", "bots.telegram.app", "bots.testing.standin")


# --- the zygote ---------------------------------------------------------------------------------


def _child(request: dict[str, object], fds: list[int]) -> None:
    """In the forked child: become `bots ARGV` and never return."""
    code = 70
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL if signum != signal.SIGINT else signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[arg-type]
        argv = [str(a) for a in request["argv"]]  # type: ignore[attr-defined]
        sys.argv = ["bots", *argv]
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the new descriptors behind the old objects
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        from bots.cli import main

        try:
            code = int(main(argv) or 0)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except KeyboardInterrupt:
            code = 130
    finally:
        try:
            import logging

            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(path: str) -> None:
    """Import the package, then fork a child for every request on the socket at `path`."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `bots run` sets it before importing PTB
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, socket.socket] = {}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wakeup_r, selectors.EVENT_READ, "child")
    report = os.environ.get("BOTS_ZYGOTE_CPU")
    if report:  # for measuring the suite: the zygote's CPU and its children's, written when it ends

        def ended(*_: object) -> None:
            import resource

            used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
            with open(f"{report}-{os.getpid()}", "w") as out:
                out.write(str(sum(u.ru_utime + u.ru_stime for u in used)))
            os._exit(0)

        signal.signal(signal.SIGTERM, ended)
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "accept":
                connection, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
                if not message:  # the test process went away
                    connection.close()
                    if not children:
                        return
                    continue
                request = json.loads(message.decode())
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    _child(request, fds)
                for fd in fds:
                    os.close(fd)
                children[pid] = connection
                connection.sendall(f"{pid}\n".encode())
            else:
                os.read(wakeup_r, 4096)
                while children:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
                    connection = children.pop(pid, None)
                    if connection is not None:
                        try:
                            connection.sendall(f"{code}\n".encode())
                        except OSError:
                            pass
                        connection.close()


# --- the client, in the tests ---------------------------------------------------------------------

_zygote: tuple[subprocess.Popen[bytes], str] | None = None


def _socket_path() -> str:
    """The zygote of this test process, started at the first call."""
    global _zygote
    if _zygote is None or _zygote[0].poll() is not None:
        folder = tempfile.mkdtemp(prefix="bots-zygote-")
        path = os.path.join(folder, "socket")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.zygote", path], cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise RuntimeError("the tests' zygote did not start")
        _zygote = (process, path)
        atexit.register(_stop, process)
    return _zygote[1]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """At the test process's end: the zygote ends too (its CPU counted where it belongs)."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def forking() -> bool:
    """Whether `bots` commands are forked from the zygote (else started with `python -m bots`)."""
    return os.environ.get("BOTS_TEST_EXEC", "") != "1" and sys.platform != "win32"


class ForkedProcess:
    """The part of `asyncio.subprocess.Process` the tests use, for a child of the zygote."""

    def __init__(self, pid: int, connection: socket.socket, stdin: int | None, stdout: int, stderr: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._connection = connection
        loop = asyncio.get_running_loop()
        self.stdout = asyncio.StreamReader()
        self.stderr = asyncio.StreamReader()
        self._pipes = [
            loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(self.stdout), os.fdopen(stdout, "rb", 0)),
            loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(self.stderr), os.fdopen(stderr, "rb", 0)),
        ]
        self._stdin = stdin
        self._status: asyncio.Task[int] | None = None

    async def _connect(self) -> None:
        for connecting in self._pipes:
            await connecting

    async def _read_status(self) -> int:
        reader, writer = await asyncio.open_unix_connection(sock=self._connection)
        line = await reader.readline()
        writer.close()
        return int(line) if line.strip() else -signal.SIGKILL

    async def wait(self) -> int:
        if self._status is None:
            self._status = asyncio.create_task(self._read_status())
        self.returncode = await asyncio.shield(self._status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    async def communicate(self, data: bytes | None = None) -> tuple[bytes, bytes]:
        if self._stdin is not None:
            if data:
                await asyncio.to_thread(os.write, self._stdin, data)
            os.close(self._stdin)
            self._stdin = None
        out, err, _ = await asyncio.gather(self.stdout.read(), self.stderr.read(), self.wait())
        return out, err


async def fork_bots(argv: list[str], *, cwd: Path, env: Mapping[str, str], stdin: bool = False) -> ForkedProcess:
    """`bots ARGV` as a child of the zygote, its stdout and stderr on pipes (and stdin, with `stdin`)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe() if stdin else (os.open(os.devnull, os.O_RDONLY), None)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(_socket_path())
        request = json.dumps({"argv": argv, "env": dict(env), "cwd": str(cwd)}).encode()
        socket.send_fds(connection, [request], [in_r, out_w, err_w])
        pid_line = b""
        while not pid_line.endswith(b"\n"):
            chunk = connection.recv(64)
            if not chunk:
                raise RuntimeError("the tests' zygote went away")
            pid_line += chunk
    finally:
        for fd in (in_r, out_w, err_w):
            os.close(fd)
    connection.setblocking(False)
    process = ForkedProcess(int(pid_line), connection, in_w, out_r, err_r)
    await process._connect()
    return process


if __name__ == "__main__":
    serve(sys.argv[1])
