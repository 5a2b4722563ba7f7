"""deploy/: the systemd units parse (systemd-analyze verify) and keep their hardening."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("bots.service", "bots-backup.service", "bots-backup.timer")
INSTALLED_BOTS = "/srv/bots/.venv/bin/bots"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed (the keys are still checked by the next test)")
    # the commands must exist where verify runs: the installed path becomes this virtualenv's
    here = str(Path(sys.executable).parent / "bots")
    for name in UNITS:
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(INSTALLED_BOTS, here))
    done = subprocess.run(
        [analyze, "verify", *(f"./{name}" for name in UNITS)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    said = [line for line in (done.stdout + done.stderr).splitlines() if any(name in line for name in UNITS)]
    assert done.returncode == 0 and not said, "\n".join(said) or done.stderr


def test_the_service_is_hardened_and_writes_only_its_database_folder() -> None:
    service = unit("bots.service")["Service"]
    required = {
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
        "ReadWritePaths": "/var/lib/bots",
        "StateDirectory": "bots",
        "User": "bots",
        "EnvironmentFile": "/etc/bots/bots.env",
        "KillSignal": "SIGTERM",
        "Restart": "on-failure",
    }
    for key, value in required.items():
        assert service.get(key) == [value], f"{key}={service.get(key)}"
    assert "bots.env must be mode 0600" in service["ExecStartPre"][0]  # a readable secrets file is refused
    assert service["ExecStartPre"][1].endswith("db upgrade")  # the schema before the bots
    [start] = service["ExecStart"]
    assert " run --admin 127.0.0.1:" in start and "--admin-public" not in start and "--insecure-dev" not in start


def test_the_backup_runs_as_the_bots_user_into_its_own_folder_every_night() -> None:
    service = unit("bots-backup.service")["Service"]
    assert service["User"] == ["bots"] and service["Type"] == ["oneshot"]
    assert "db backup" in service["ExecStart"][0] and "/var/backups/bots/" in service["ExecStart"][0]
    assert service["ReadWritePaths"] == ["/var/lib/bots /var/backups/bots"]
    assert service["ProtectSystem"] == ["strict"] and service["NoNewPrivileges"] == ["yes"]
    assert "EnvironmentFile" not in service  # a backup needs no key: the copy stays sealed
    timer = unit("bots-backup.timer")["Timer"]
    assert timer["OnCalendar"] and timer["Persistent"] == ["true"]
