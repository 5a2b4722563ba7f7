"""The studio's fixtures: a copy of a small project, `bots studio` as a real process, a real Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent / "project"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1500,900",
)


def copy_project(target: Path) -> Path:
    """A fresh copy of tests/studio/project (the hello bot, a ru catalog, one passing and one failing test)."""
    shutil.copytree(PROJECT, target)
    return target


@dataclass
class Studio:
    root: Path
    url: str  # with the token, as printed
    base: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[str]


def start_studio(root: Path) -> Studio:
    """`bots studio --port 0` on `root`, started as the organiser would, once it printed its address."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bots", "--project", str(root), "studio", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=root,
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:  # the address is printed once the server listens
        printed.append(line)
        if line.startswith("open http://"):
            url = line.split(" ", 1)[1].strip()
            return Studio(root, url, url.split("/?", 1)[0], process)
    process.wait()
    process.stdout.close()
    raise AssertionError("bots studio stopped without printing its address:\n" + "".join(printed))


def stop_studio(studio: Studio) -> None:
    studio.process.terminate()
    try:
        assert studio.process.wait(timeout=30) == 0
    finally:
        if studio.process.stdout is not None:
            studio.process.stdout.close()


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    running = start_studio(copy_project(tmp_path_factory.mktemp("studio") / "project"))
    yield running
    stop_studio(running)


def chromium_or_skip(profile: Path) -> object:
    """A Selenium driver on Debian's headless Chromium; the test is skipped when either is missing."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("chromium or chromium-driver not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
