"""`bots studio` without a browser: who may open it, checking without writing, saving, translations.

Every request goes through real HTTP (aiohttp's test server on loopback) to the real app on
a copy of tests/studio/project; one test starts the command itself, as an organiser would.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.i18n.translations import read_catalog
from bots.studio import make_app
from bots.studio.access import COOKIE, Access
from tests.studio.conftest import copy_project, start_studio, stop_studio

MAIN = "flows/hello/main.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
async def client(root: Path) -> AsyncIterator[TestClient]:
    """A client that has opened the studio's address (so it holds the cookie)."""
    access = Access(token="the-token")
    async with TestClient(TestServer(make_app(root, access, first_name="Alex"), host="127.0.0.1")) as opened:
        response = await opened.get("/?token=the-token", allow_redirects=False)
        assert response.status == 303
        yield opened


async def test_refused_without_the_token_and_once_it_is_used(root: Path) -> None:
    access = Access(token="the-token")
    async with TestClient(TestServer(make_app(root, access), host="127.0.0.1")) as first:
        assert (await first.get("/")).status == 403
        assert (await first.get("/api/state")).status == 403
        assert (await first.get("/?token=wrong")).status == 403
        opened = await first.get("/?token=the-token", allow_redirects=False)
        assert opened.status == 303 and opened.headers["Location"] == "/"  # the token leaves the address bar
        assert "SameSite=Strict" in opened.headers["Set-Cookie"] and "HttpOnly" in opened.headers["Set-Cookie"]
        assert (await first.get("/")).status == 200  # the cookie is enough from now on
        first.session.cookie_jar.clear()
        assert (await first.get("/?token=the-token")).status == 403  # used up
        assert (await first.get("/", cookies={COOKIE: "guess"})).status == 403


async def test_refuses_other_host_names_and_other_pages(client: TestClient) -> None:
    assert (await client.get("/api/state", headers={"Host": "evil.example:8765"})).status == 403
    response = await client.post("/api/save", json={}, headers={"Origin": "http://evil.example"})
    assert response.status == 403


async def test_check_shows_the_error_at_its_place_without_writing(client: TestClient, root: Path) -> None:
    before = (root / MAIN).read_text(encoding="utf-8")
    broken = before.replace("    next: bye\n", "    next: by\n", 1)
    result = await (await client.post("/api/check", json={"path": MAIN, "text": broken})).json()
    errors = [d for d in result["diagnostics"] if d["severity"] == "error"]
    assert [(d["line"], d["column"]) for d in errors] == [(16, 11)]
    assert errors[0]["text"] == (
        "flows/hello/main.yaml:16:11: error: node 'fined': next 'by' does not exist (did you mean 'bye'?)"
    )
    assert result["drafts"] == [MAIN]
    assert (root / MAIN).read_text(encoding="utf-8") == before
    reopened = await (await client.get(f"/api/file?path={MAIN}")).json()  # a reloaded page gets the typing back
    assert (reopened["text"], reopened["draft"]) == (before, broken)
    # the chat keeps the version without errors and says why
    said = await (await client.post("/api/chat", json={"bot": "hello", "action": "restart"})).json()
    assert said["messages"][0]["text"] == "Hello, Alex! How can I help?"
    assert errors[0]["text"] in said["errors"]
    fixed = await (await client.post("/api/check", json={"path": MAIN, "text": before})).json()
    assert [d for d in fixed["diagnostics"] if d["severity"] == "error"] == [] and fixed["drafts"] == []


async def test_a_draft_is_tried_in_the_chat_before_it_is_saved(client: TestClient, root: Path) -> None:
    text = (root / MAIN).read_text(encoding="utf-8").replace("Hello, {{ user.first_name }}!", "Hi there!")
    await client.post("/api/check", json={"path": MAIN, "text": text})
    said = await (await client.post("/api/chat", json={"bot": "hello", "action": "restart"})).json()
    assert said["messages"][0]["text"] == "Hi there! How can I help?"
    assert [b["label"] for b in said["messages"][0]["buttons"]] == ["I was fined", "Something else", "Talk to a person"]
    assert (said["flow"], said["node"]) == ("hello/main", "welcome")


async def test_save_writes_only_the_version_that_was_opened(client: TestClient, root: Path) -> None:
    opened = await (await client.get(f"/api/file?path={MAIN}")).json()
    (root / MAIN).write_text(opened["text"] + "# changed by someone else\n", encoding="utf-8")
    mine = opened["text"].replace("A lawyer", "A good lawyer")
    conflict = await client.post("/api/save", json={"path": MAIN, "text": mine, "version": opened["version"]})
    assert conflict.status == 409
    body = await conflict.json()
    assert body["disk_text"].endswith("# changed by someone else\n")
    assert (root / MAIN).read_text(encoding="utf-8").endswith("# changed by someone else\n")
    saved = await client.post("/api/save", json={"path": MAIN, "text": mine, "version": body["disk_version"]})
    assert saved.status == 200
    assert (root / MAIN).read_text(encoding="utf-8") == mine
    outside = await client.post("/api/save", json={"path": "../outside.yaml", "text": "x", "version": None})
    assert outside.status == 400 and not (root.parent / "outside.yaml").exists()


async def test_a_translation_is_saved_into_the_po_file_and_heard(client: TestClient, root: Path) -> None:
    table = await (await client.get("/api/translations?bot=hello")).json()
    states = {row["id"]: row["cells"]["ru"]["state"] for row in table["rows"]}
    assert states["Something else"] == "missing" and states["A lawyer can help you appeal a fine."] == "fuzzy"
    for text, wanted in (
        ("Другое", "Something else"),
        ("Юрист поможет вам обжаловать штраф.", "A lawyer can help you appeal a fine."),
    ):
        row = next(r for r in table["rows"] if r["id"] == wanted)
        saved = await client.post(
            "/api/translation",
            json={
                "bot": "hello",
                "domain": row["domain"],
                "lang": "ru",
                "id": wanted,
                "context": row["context"],
                "text": text,
            },
        )
        assert (await saved.json()) == {"state": "translated"}
    catalog = read_catalog(root / "locales/ru/LC_MESSAGES/hello.po", "ru", "hello")
    fined = catalog.get("A lawyer can help you appeal a fine.", context="main:fined")
    assert fined is not None and fined.string == "Юрист поможет вам обжаловать штраф." and not fined.fuzzy
    said = await (await client.post("/api/chat", json={"bot": "hello", "action": "lang", "value": "ru"})).json()
    assert "Другое" in [b["label"] for b in said["messages"][-1]["buttons"]]


async def test_tests_run_as_bots_test_prints_them(client: TestClient) -> None:
    result = await (await client.post("/api/tests", json={"bot": "hello"})).json()
    assert result["summary"] == "1 passed, 1 failed"
    [failure] = result["failures"]
    assert failure["text"].startswith("FAIL flows/hello/tests/main.yaml: something else also mentions lawyers\n  step 3:")
    assert (failure["file"], failure["line"]) == ("flows/hello/tests/main.yaml", 13)
    assert result["reached"] == {
        "hello/main:welcome": True,
        "hello/main:fined": True,
        "hello/main:human": False,
        "hello/main:bye": True,
    }
    assert "not reached: node human (flows/hello/main.yaml:18)" in result["coverage"]


async def test_graph_maps_boxes_to_nodes_and_places(client: TestClient) -> None:
    graph = await (await client.get("/api/graph?bot=hello&flow=hello/main")).json()
    assert graph["mermaid"].startswith("flowchart TD")
    assert '  subgraph n_flow__hello_main ["main"]\n    direction TB\n' in graph["mermaid"]
    places = {(b["node"], b["file"], b["line"]) for b in graph["boxes"].values()}
    assert ("human", MAIN, 18) in places and ("welcome", MAIN, 4) in places


def test_the_command_prints_an_address_that_opens_once(tmp_path: Path) -> None:
    running = start_studio(copy_project(tmp_path / "project"))
    try:
        assert running.url.startswith("http://127.0.0.1:") and "?token=" in running.url
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(running.base + "/api/state", timeout=30)
        assert refused.value.code == 403
        refused.value.close()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(running.url, timeout=30) as page:
            assert page.status == 200 and page.url == running.base + "/" and b"bots studio" in page.read()
        with opener.open(running.base + "/api/state", timeout=30) as state:
            assert b'"hello"' in state.read()
        with pytest.raises(urllib.error.HTTPError) as again:
            urllib.request.urlopen(running.url, timeout=30)
        assert again.value.code == 403
        again.value.close()
    finally:
        stop_studio(running)


@pytest.mark.usefixtures("_restore_logging")
def test_the_command_refuses_a_folder_without_flows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bots.cli import main

    assert main(["--project", str(tmp_path), "studio", "--port", "0"]) == 2
    assert "no flows/ or knowledge/ folder here" in capsys.readouterr().err
