"""The studio's web server: the page, its assets and a small JSON API, on 127.0.0.1 only.

Handlers are thin: each reads its request, calls the workspace or a pane's module, and
answers JSON. They run one at a time on the event loop (loading a project takes tens of
milliseconds), so the workspace needs no locks. Requests are not logged: the address of the
first one holds the token.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bots.i18n.translations import CatalogError
from bots.studio.access import Access
from bots.studio.chat import ChatPane, ChatRefused
from bots.studio.translations import TranslationRefused, save_translation, table_json
from bots.studio.views import graph_json, tests_json
from bots.studio.workspace import Conflict, FileRefused, Workspace, diagnostic_json

STATIC = Path(__file__).parent / "static"
WORKSPACE: web.AppKey[Workspace] = web.AppKey("workspace", Workspace)
CHAT: web.AppKey[ChatPane] = web.AppKey("chat", ChatPane)
REFUSALS = (FileRefused, ChatRefused, TranslationRefused, CatalogError)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return data


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"'{key}' must be a string")
    return value


@web.middleware
async def _refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    """What the organiser asked for cannot be done: say why, as JSON, for the page to show."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except REFUSALS as err:
        return _json({"error": str(err)}, status=400)
    except FileNotFoundError as err:
        return _json({"error": f"{err.filename}: no such file"}, status=404)


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def state(request: web.Request) -> web.Response:
    workspace = request.app[WORKSPACE]
    project = workspace.load().project
    bots = [
        {
            "id": b,
            "name": loaded.config.name,
            "locales": loaded.config.locales,
            "source": loaded.config.source_locale,
            "flows": [f"{b}/{f}" for f in loaded.flows],
            "start": f"{b}/{loaded.config.start}",
        }
        for b, loaded in sorted(project.bots.items())
        if loaded.config.start
    ]
    return _json({"project": workspace.root.name, "bots": bots, "files": workspace.files()})


async def read_file(request: web.Request) -> web.Response:
    workspace = request.app[WORKSPACE]
    path = request.query.get("path", "")
    text, version = workspace.read(path)
    # what was typed and not saved, kept while the studio runs (a reloaded page gets it back)
    return _json({"text": text, "version": version, "draft": workspace.drafts.get(workspace.path(path))})


async def check(request: web.Request) -> web.Response:
    """Check what is typed in one file against the project, without writing it."""
    workspace = request.app[WORKSPACE]
    data = await _body(request)
    path = _text(data, "path")
    workspace.set_draft(path, _text(data, "text"))
    diagnostics = workspace.load().diagnostics
    here = [diagnostic_json(d) for d in diagnostics if d.position.file == path]
    elsewhere = [diagnostic_json(d) for d in diagnostics if d.position.file != path and d.severity == "error"]
    return _json(
        {
            "diagnostics": here,
            "elsewhere": elsewhere,
            "errors": sum(d.severity == "error" for d in diagnostics),
            "warnings": sum(d.severity == "warning" for d in diagnostics),
            "drafts": sorted(workspace.relative(p) for p in workspace.drafts),
        }
    )


async def save(request: web.Request) -> web.Response:
    workspace = request.app[WORKSPACE]
    data = await _body(request)
    version = data.get("version")
    outcome = workspace.save(
        _text(data, "path"), _text(data, "text"), version if isinstance(version, str) else None, force=data.get("force") is True
    )
    if isinstance(outcome, Conflict):
        return _json({"conflict": True, "disk_text": outcome.disk_text, "disk_version": outcome.disk_version}, 409)
    return _json({"version": outcome})


async def discard(request: web.Request) -> web.Response:
    request.app[WORKSPACE].drop_draft(_text(await _body(request), "path"))
    return _json({"ok": True})


async def chat(request: web.Request) -> web.Response:
    data = await _body(request)
    value = data.get("value", "")
    return _json(request.app[CHAT].step(_text(data, "bot"), _text(data, "action"), value if isinstance(value, str) else ""))


def _bot(request: web.Request, bot: str) -> Any:
    """The last version without errors, and that it has `bot`; HTTP 400 with the reason if not."""
    good = request.app[WORKSPACE].good()
    if good is None:
        raise ChatRefused("the flows have errors: fix them first (see the problems under the editor)")
    if bot not in good.loaded.project.bots:
        raise ChatRefused(f"no bot '{bot}'")
    return good


async def graph(request: web.Request) -> web.Response:
    bot = request.query.get("bot", "")
    good = _bot(request, bot)
    flow = request.query.get("flow", "").partition("/")[2] or None
    return _json({**graph_json(good.loaded, bot, flow), "refused": good.refused})


async def tests(request: web.Request) -> web.Response:
    bot = _text(await _body(request), "bot")
    good = _bot(request, bot)
    return _json({**tests_json(good, bot), "refused": good.refused})


async def translations(request: web.Request) -> web.Response:
    bot = request.query.get("bot", "")
    good = _bot(request, bot)
    return _json(table_json(request.app[WORKSPACE].root, good.loaded.project, bot))


async def translation(request: web.Request) -> web.Response:
    data = await _body(request)
    workspace = request.app[WORKSPACE]
    good = _bot(request, _text(data, "bot"))
    context = data.get("context")
    new_state = save_translation(
        workspace.root,
        good.loaded.project,
        _text(data, "domain"),
        _text(data, "lang"),
        _text(data, "id"),
        context if isinstance(context, str) else None,
        _text(data, "text"),
    )
    return _json({"state": new_state})


def make_app(root: Path, access: Access, *, first_name: str | None = None) -> web.Application:
    app = web.Application(middlewares=[access.middleware, _refusals], client_max_size=8 * 1024 * 1024)
    workspace = Workspace(root)
    app[WORKSPACE] = workspace
    app[CHAT] = ChatPane(workspace, first_name=first_name)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/file", read_file)
    app.router.add_post("/api/check", check)
    app.router.add_post("/api/save", save)
    app.router.add_post("/api/discard", discard)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/graph", graph)
    app.router.add_post("/api/tests", tests)
    app.router.add_get("/api/translations", translations)
    app.router.add_post("/api/translation", translation)
    return app


async def serve(root: Path, port: int, *, out: TextIO | None = None, first_name: str | None = None) -> None:
    """Serve the studio on 127.0.0.1:`port` (0: any free port) until SIGINT or SIGTERM."""
    stream = out or sys.stdout
    access = Access()
    runner = web.AppRunner(make_app(root, access, first_name=first_name), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        bound = runner.addresses[0][1]
        print(f"bots studio for {root.resolve()}", file=stream)
        print(f"open http://127.0.0.1:{bound}/?token={access.token}", file=stream)
        print("(the address works once, in one browser; Ctrl-C stops the studio)", file=stream, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
