"""`BotsError`: the project's user-facing errors derive from it with the exit status the
command line gives them, and `bots.cli.main` turns one raised inside a command into
`bots: <message>` on stderr and that status."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.broadcast.markdown import NewsError
from bots.broadcast.sending import BroadcastError
from bots.cli import main
from bots.errors import BotsError
from bots.i18n.domains import DomainClash
from bots.i18n.translations import CatalogError
from bots.loader import ProjectError
from bots.ops.backup import BackupError
from bots.privacy.vault import WeakKey
from bots.report.counters import ReportError
from bots.storage import StoreError
from bots.storage.database import DatabaseUnavailable
from bots.telegram.admin import AddressRefused
from bots.telegram.app import StartupError
from bots.tools.drawing import GraphError
from tests.conftest import write_project

pytestmark = pytest.mark.usefixtures("_restore_logging")

MAIN = "start: hello\nnodes:\n  hello: {type: end, text: Hello}\n"


@pytest.mark.parametrize(
    ("error", "base", "status"),
    [
        (StartupError, Exception, 1),
        (StoreError, RuntimeError, 1),
        (DatabaseUnavailable, RuntimeError, 1),
        (ReportError, Exception, 1),
        (GraphError, Exception, 2),
        (BackupError, Exception, 1),
        (BroadcastError, Exception, 1),
        (NewsError, ValueError, 1),
        (CatalogError, RuntimeError, 1),
        (DomainClash, ValueError, 1),
        (AddressRefused, ValueError, 2),
        (WeakKey, ValueError, 2),
        (ProjectError, Exception, 1),
    ],
)
def test_the_projects_errors_are_bots_errors_and_keep_their_bases(error: type[BotsError], base: type, status: int) -> None:
    assert issubclass(error, BotsError) and issubclass(error, base)
    assert error.status == status


def test_a_status_is_the_classs_unless_the_error_gives_its_own() -> None:
    class Refused(BotsError, status=2):
        pass

    assert BotsError("no").status == 1
    assert Refused("no").status == 2 and Refused("no", status=3).status == 3
    assert BotsError("no", status=2).status == 2 and BotsError.status == 1
    assert str(Refused("what to do")) == "what to do"


def test_an_error_raised_in_a_command_is_one_line_and_its_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`bots report` on a file that is not a database: the counters' ReportError reaches `main`."""
    root = write_project(tmp_path / "project", {"flows/demo/main.yaml": MAIN})
    db = tmp_path / "notes.db"
    db.write_bytes(b"these are not the pages of a database" * 200)
    assert main(["--project", str(root), "report", "--db", str(db), "--week", "2024-W06"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"bots: {db}: cannot read the counters: file is not a database\n"  # no traceback, no "unexpected" log line


def test_an_errors_own_status_is_the_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A weak BOTS_SECRET_KEY is a WeakKey (status 2), raised where the vault is made."""
    monkeypatch.setenv("BOTS_SECRET_KEY", "short")
    db = tmp_path / "bots.db"
    assert main(["db", "status", "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("bots: BOTS_SECRET_KEY is too weak: ") and err.count("\n") == 1
    assert not db.exists()


def test_a_broken_catalog_stops_i18n_update_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A `.po` that does not parse is a CatalogError from the catalogs, said by `main`."""
    root = write_project(tmp_path / "project", {"flows/demo/main.yaml": MAIN})
    po = root / "locales/ru/LC_MESSAGES/demo.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "Hello"\nmsgstr "Привет"\n\nmsgid "unclosed\n', encoding="utf-8")
    assert main(["--project", str(root), "i18n", "update"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bots: ") and "demo.po: not a valid translation catalog" in err and err.count("\n") == 1
