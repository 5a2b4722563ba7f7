"""A throw-away PostgreSQL server for the tests: Debian's server binaries, a fresh cluster
in a temporary folder, listening on loopback only, gone when the tests end.

PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the `postgres` user
and is started through `runuser`. Where no server binaries are installed, `find_binaries`
says so and the tests that need one are skipped with that line.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest Debian version), or None."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    return None


def missing_reason() -> str | None:
    """Why no server can be started here, or None when one can."""
    if find_binaries() is None:
        return "PostgreSQL server binaries (Debian package postgresql) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the PostgreSQL server"
    return None


@dataclass
class Server:
    folder: Path
    port: int
    binaries: Path
    user: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.binaries / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database, "-Atc", sql)
        return done.stdout

    def new_database(self) -> str:
        """A new empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url_of(name)

    def stop(self, *, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop", check=False)

    #: False for tests (nothing written to disk is waited for); True for benchmarks, which
    #: must pay what a real deployment pays for each commit
    durable: bool = False

    def start(self) -> None:
        fast = "" if self.durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.folder / "data"),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.folder / "log"),
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=200{fast}",
            "start",
        )


def start_server(*, durable: bool = False) -> Server:
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server binaries")
    folder = Path(tempfile.mkdtemp(prefix="bots-pg-"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    server = Server(folder, free_port(), binaries, user, durable)
    server._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", user, "-E", "UTF8", "--no-sync")
    server.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the PostgreSQL server did not start")


def remove(server: Server) -> None:
    server.stop(mode="immediate")
    shutil.rmtree(server.folder, ignore_errors=True)
