"""Dockerfile and compose.yaml: the image builds where a container engine works; everywhere,
the image's own start-up command (ENTRYPOINT + CMD, its ENV, compose's mounts) runs the real
project against the stand-in, and the HEALTHCHECK passes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.net import free_port
from tests.support.standin import greeting, standin
from tests.support.store import SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    last_from = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return [(line.split(None, 1)[0], line.split(None, 1)[1]) for line in lines[last_from:]]


def one(name: str) -> str:
    [value] = [value for kind, value in instructions() if kind == name]
    return value


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for kind, value in instructions():
        if kind == "ENV":
            for pair in shlex.split(value):
                name, _, setting = pair.partition("=")
                env[name] = setting
    return env


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def token_variables() -> list[str]:
    """The token variables the env file example names (the ones `bots run` will ask for)."""
    example = (ROOT / "deploy/bots.env.example").read_text()
    return re.findall(r"^(\w+_BOT_TOKEN)=", example, flags=re.M)


@pytest.mark.timeout(1800)  # a first build downloads the base image and the wheels
def test_the_image_builds_where_a_container_engine_works() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no working container engine (docker info fails: no docker daemon)")
    build = subprocess.run([docker, "build", "-q", "-t", "bots:ci-test", str(ROOT)], capture_output=True, text=True, timeout=1500)
    assert build.returncode == 0, build.stderr[-3000:]
    checked = subprocess.run([docker, "run", "--rm", "bots:ci-test", "check"], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr[-3000:]
    user = subprocess.run(
        [docker, "run", "--rm", "--entrypoint", "id", "bots:ci-test", "-u"], capture_output=True, text=True, timeout=60
    )
    assert user.stdout.strip() != "0"


def test_the_image_is_small_non_root_and_keeps_secrets_out() -> None:
    kinds = [kind for kind, _ in instructions()]
    assert "USER" in kinds and one("USER") not in ("root", "0")
    assert kinds.index("USER") < kinds.index("ENTRYPOINT")
    assert one("FROM").endswith("-slim")
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for secret_or_data in (".env", "*.env", "*.db", "*.db-*", ".venv", ".git", "tests", "*.replaced-*"):
        assert secret_or_data in ignored, secret_or_data


def test_compose_runs_the_bots_on_postgresql_with_the_flows_mounted() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "bots"}
    bots, migrate = services["bots"], services["migrate"]
    assert bots["env_file"] == ".env" and migrate["env_file"] == ".env"
    url = bots["environment"]["BOTS_DATABASE_URL"]
    assert url.startswith("postgresql://bots:${POSTGRES_PASSWORD") and url.endswith("@db:5432/bots")
    assert migrate["command"] == ["db", "upgrade"]
    assert bots["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    project = json.loads(one("ENTRYPOINT"))[2]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in bots["volumes"]}
    for folder in ("flows", "knowledge", "locales"):
        assert mounts[f"{project}/{folder}"] == f"./{folder}"
    assert all(port.startswith("127.0.0.1:") for port in bots["ports"])  # metrics for this machine only
    assert bots["read_only"] is True and bots["cap_drop"] == ["ALL"]


async def test_the_images_start_up_command_serves_the_real_bots(tmp_path: Path) -> None:
    """What `docker compose up` starts, without a container: same command, same ENV, the
    project's own flows, knowledge and locales where compose mounts them."""
    entrypoint, command = json.loads(one("ENTRYPOINT")), json.loads(one("CMD"))
    project_dir = entrypoint[entrypoint.index("--project") + 1]
    assert entrypoint[0] == "bots"
    port = free_port()
    command = [part.replace("0.0.0.0:9100", f"127.0.0.1:{port}") for part in command]  # loopback only, in tests
    # compose's bind mounts, as copies under a stand-in root
    root = tmp_path / project_dir.lstrip("/")
    for volume in compose()["services"]["bots"]["volumes"]:
        source, target = volume.split(":")[:2]
        shutil.copytree(ROOT / source, tmp_path / target.lstrip("/"))
    env = image_env()
    assert env["PTB_TIMEDELTA"] == "true"
    env["BOTS_DB"] = str(tmp_path / env["BOTS_DB"].lstrip("/"))
    Path(env["BOTS_DB"]).parent.mkdir(parents=True)
    tokens = {name: f"{100000 + number}:stand-in-token-{name.lower()}" for number, name in enumerate(token_variables())}
    assert len(tokens) >= 4
    async with standin(*tokens.values()) as api:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots",
            "--project",
            str(root),
            *command,
            env={**os.environ, **env, **tokens, "BOTS_SECRET_KEY": SECRET_KEY, "TELEGRAM_API_URL": api.base_url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            healthcheck = json.loads(one("HEALTHCHECK").split(" CMD ", 1)[1].replace("9100", str(port)))
            assert healthcheck[0] == "python"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while True:  # the container's HEALTHCHECK, as Docker runs it, until the bots are up
                check = await asyncio.create_subprocess_exec(sys.executable, *healthcheck[1:], stderr=asyncio.subprocess.DEVNULL)
                if await check.wait() == 0:
                    break
                assert process.returncode is None, (await process.communicate())[1].decode()[-3000:]
                assert loop.time() < deadline, "the HEALTHCHECK never passed"
                await asyncio.sleep(0.2)  # as Docker does, run the HEALTHCHECK again until it passes
            mara = api.user("Mara's first visitor")
            hello = await greeting(api, mara, bot=tokens["MARA_BOT_TOKEN"])
            assert hello.text
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()[-3000:]
    entries = [json.loads(line) for line in errors.decode().splitlines()]  # --log-format json
    started = {entry.get("bot") for entry in entries if entry["message"] == "started (long polling)"}
    assert started == {"kotos", "mara", "tradeunion", "volunteer"}
