"""The aiohttp server speaking the Bot API's HTTP protocol over the stand-in's world.

Routes: ``/bot<token>/<method>`` (GET/POST; JSON, urlencoded or multipart bodies, plus query
string), ``/file/bot<token>/<file_path>`` for downloads, ``/_standin/...`` for remote control
(see ``httpcontrol.py``), and Telegram's JSON 404 for anything else.

Implemented methods are in ``methods_messages.py`` and ``methods_chats.py``. Any other method
of the spec that returns ``True`` is validated (required fields) and answered ``true``; the
remaining spec methods answer ``400 Bad Request: method not supported by the stand-in``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp
from aiohttp import web

from bots.testing.standin import methods_chats, methods_messages
from bots.testing.standin.context import Ctx, Result, Upload
from bots.testing.standin.errors import (
    NOT_FOUND,
    NOT_SUPPORTED,
    UNAUTHORIZED,
    ApiError,
    bad_request,
)
from bots.testing.standin.faults import Call, CallLog, FaultInjector, RateLimiter
from bots.testing.standin.spec import (
    ApiSpec,
    MethodSpec,
    check_required,
    decode_params,
    load_spec,
)
from bots.testing.standin.world import BotState, World

log = logging.getLogger(__name__)

_HANDLERS: dict[str, Callable[[Ctx], Any]] = {**methods_messages.HANDLERS, **methods_chats.HANDLERS}
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
MAX_BODY = 60 * 1024 * 1024


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=_dumps(body), status=status, content_type="application/json")


@dataclass(frozen=True, slots=True)
class _Route:
    spec: MethodSpec
    handler: Callable[[Ctx], Any] | None  # None: generic ``true`` answer or "not supported"
    is_async: bool
    check_required: bool


class StandinServer:
    """The HTTP side of the stand-in; :class:`bots.testing.standin.BotApiStandin` adds the test controls."""

    def __init__(
        self, world: World, *, host: str = "127.0.0.1", port: int = 0, spec: ApiSpec | None = None, call_log_size: int = 10_000
    ) -> None:
        self.world = world
        self.host = host
        self.port = port
        self.spec = spec or load_spec()
        self.faults = FaultInjector()
        self.rate = RateLimiter()
        self.call_log = CallLog(call_log_size)
        self.requests = 0
        self.handling = 0  # Bot API calls being answered now
        self._routes: dict[str, _Route] = {}
        for key, mspec in self.spec.methods.items():
            handler = _HANDLERS.get(key)
            self._routes[key] = _Route(
                mspec, handler, inspect.iscoroutinefunction(handler), key not in methods_chats.NO_REQUIRED_CHECK
            )
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: ``http://host:port/bot`` (token and method get appended)."""
        return self.url + "/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``: ``http://host:port/file/bot``."""
        return self.url + "/file/bot"

    @property
    def idle(self) -> bool:
        """No HTTP connection is open and no call is being answered: whatever a client sent
        has been handled (a request a closed connection had not begun is dropped, as on
        Telegram). A barrier once a client is stopped or killed, instead of sleeping."""
        server = self._runner.server if self._runner is not None else None
        return self.handling == 0 and not (server is not None and server.connections)

    def _finish_routes(self) -> None:
        self.app.router.add_route("*", "/{tail:.*}", self._handle_unknown)

    async def start(self) -> None:
        """Bind (port 0 picks a free port) and serve; also opens the webhook HTTP client."""
        self._finish_routes()
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        for bot in self.world.bots.values():
            self._attach(bot)
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def stop(self) -> None:
        """Stop serving, end long polls and webhook deliveries, close the HTTP client."""
        for bot in self.world.bots.values():
            bot.queue.release_poller()
            hook = bot.queue.webhook
            if hook is not None:
                for task in list(hook.workers.values()):
                    task.cancel()
                await asyncio.gather(*hook.workers.values(), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _attach(self, bot: BotState) -> None:
        bot.queue.session = self._session

        async def on_reply(data: dict[str, Any], _bot: BotState = bot) -> None:
            method = data.pop("method")
            await self.call(_bot, method, data)

        bot.queue.on_reply = on_reply

    def add_bot(self, token: str, first_name: str | None = None, username: str | None = None) -> BotState:
        """Register a bot token (usable at once, also while running)."""
        bot = self.world.add_bot(token, first_name, username)
        self._attach(bot)
        return bot

    # -- the Bot API ----------------------------------------------------------------------------
    async def call(
        self, bot: BotState, method: str, raw: dict[str, Any], uploads: dict[str, Upload] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call as if it came over HTTP; returns (HTTP status, response body)."""
        key = method.lower()
        route = self._routes.get(key)
        if route is None:
            return 404, {"ok": False, "error_code": 404, "description": NOT_FOUND}
        params: dict[str, Any] = raw
        status = 200
        try:
            params = decode_params(route.spec, raw)
            if self.faults:
                fault = self.faults.match(key, bot.id, params.get("chat_id"))
                if fault is not None:
                    if fault.delay:
                        await asyncio.sleep(fault.delay)
                    err = fault.error()
                    if err is not None:
                        raise err
            if route.check_required:
                check_required(route.spec, params)
            handler = route.handler
            if handler is None:
                if not route.spec.returns_true:
                    raise bad_request(NOT_SUPPORTED)
                result: Any = True
            else:
                ctx = Ctx(self.world, bot, key, params, uploads or {}, self.rate)
                result = (await handler(ctx)) if route.is_async else handler(ctx)
            if isinstance(result, Result):
                body = {"ok": True, "result": result.value, "description": result.description}
            else:
                body = {"ok": True, "result": result}
        except ApiError as err:
            status = err.code
            body = err.to_json()
        if self.call_log.enabled:
            logged = params if not uploads else {k: (v.describe() if isinstance(v, Upload) else v) for k, v in params.items()}
            self.call_log.record(Call(route.spec.name, logged, bot.id, self.world.now(), status))
        else:
            self.call_log.total += 1
        return status, body

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        raw: dict[str, Any] = dict(request.query) if request.query_string else {}
        uploads: dict[str, Upload] = {}
        if not request.body_exists:
            return raw, uploads
        ctype = request.content_type
        if ctype in _FORM_TYPES:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    upload = Upload(value.filename, value.content_type, value.file.read())
                    uploads[name] = upload
                    raw[name] = upload
                else:
                    raw[name] = value
        else:
            body = await request.read()
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError:
                    raise bad_request("can't parse JSON object") from None
                if not isinstance(data, dict):
                    raise bad_request("can't parse JSON object")
                raw.update(data)
        return raw, uploads

    async def _handle_api(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.handling += 1
        try:
            return await self._answer_api(request)
        finally:
            self.handling -= 1

    async def _answer_api(self, request: web.Request) -> web.Response:
        bot = self.world.bots.get(request.match_info["token"])
        if bot is None:
            return _json_response({"ok": False, "error_code": 401, "description": UNAUTHORIZED}, 401)
        if request.match_info["method"].lower() not in self._routes:
            return _json_response({"ok": False, "error_code": 404, "description": NOT_FOUND}, 404)
        try:
            raw, uploads = await self._read_params(request)
        except ApiError as err:
            return _json_response(err.to_json(), err.code)
        status, body = await self.call(bot, request.match_info["method"], raw, uploads)
        return _json_response(body, status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        bot = self.world.bots.get(request.match_info["token"])
        if bot is None:
            return _json_response({"ok": False, "error_code": 401, "description": UNAUTHORIZED}, 401)
        stored = self.world.files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return _json_response({"ok": False, "error_code": 404, "description": NOT_FOUND}, 404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return _json_response({"ok": False, "error_code": 404, "description": NOT_FOUND}, 404)
