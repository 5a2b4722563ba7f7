"""The control API over HTTP (JSON) under ``/_standin/``, for tests and benchmarks in another process.

People, chats and bots are named by id (a bot also by token). A ``chat`` equal to a person's
id means that person's private chat with ``bot``. All POST bodies are JSON objects.

========================  =====================================================================
``GET  /_standin/health``       ``{"ok": true, "base_url": ..., "base_file_url": ...}``
``POST /_standin/users``        ``{first_name, last_name?, username?, language_code?, id?, started?}`` → user
``POST /_standin/supergroups``  ``{title, forum?, members?: [user ids], bots?: [...], username?}`` → chat
``POST /_standin/send_text``    ``{user, text, bot?, chat?, topic?, reply_to?}`` → ``{"message": ...}``
``POST /_standin/send_texts``   ``{"items": [send_text bodies]}`` → ``{"count": N}`` (bulk, for load)
``POST /_standin/press``        ``{user, chat?, bot?, message_id, label? | data?}`` → ``{"callback_query_id"}``
``GET  /_standin/messages``     ``?chat=&bot=&topic=&after=&count=&wait=`` → ``{"messages": [...]}``
``GET  /_standin/answer``       ``?id=&wait=`` → ``{"answer": {...}}`` (answerCallbackQuery fields)
``GET  /_standin/topics``       ``?chat=`` → ``{"topics": [...]}``
``POST /_standin/faults``       ``{method, chat?, status?, retry_after?, description?, times?, bot?, delay?}``
``DELETE /_standin/faults``     ``?method=`` clears
``POST /_standin/block``        ``{user, bot?}`` (``/unblock`` likewise)
``POST /_standin/rate_limits``  ``{per_bot_per_second?, per_chat_per_second?, per_group_per_minute?}``
``POST /_standin/advance_time`` ``{seconds}``
``GET  /_standin/calls``        ``?method=&limit=`` → ``{"calls": [{method, params, bot_id, status}]}``
``GET  /_standin/stats``        counters
========================  =====================================================================

Errors answer ``{"ok": false, "error": "..."}`` with status 400 (or 408 when a wait times out).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from aiohttp import web

from bots.testing.standin.model import Group, Message, Person

if TYPE_CHECKING:
    from bots.testing.standin.control import BotApiStandin

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _ok(body: dict[str, Any]) -> web.Response:
    return web.json_response({"ok": True, **body}, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def message_view(msg: Message) -> dict[str, Any]:
    """A bot message for remote readers: the Message object plus ``deleted`` and full markup."""
    view = msg.to_api(with_reply=False)
    view["deleted"] = msg.deleted
    if msg.reply_markup is not None:
        view["reply_markup"] = msg.reply_markup
    view["buttons"] = [[{"text": t, "callback_data": d} for t, d in row] for row in msg.buttons]
    return view


def add_control_routes(api: BotApiStandin) -> None:
    """Register the ``/_standin/`` routes on the stand-in's app."""
    world = api.world

    def person(value: Any) -> Person:
        found = world.people.get(int(value))
        if found is None:
            raise ValueError("unknown user")
        return found

    def chat(value: Any) -> Person | Group | None:
        if value is None:
            return None
        cid = int(value)
        found = world.groups.get(cid) or world.people.get(cid)
        if found is None:
            raise ValueError("unknown chat")
        return found

    def bot_ref(value: Any) -> str | int | None:
        if value is None or value == "":
            return None
        return value if isinstance(value, str) and ":" in value else int(value)

    def guarded(fn: Callable[[web.Request], Awaitable[dict[str, Any]]]) -> Handler:
        async def wrapper(request: web.Request) -> web.Response:
            try:
                return _ok(await fn(request))
            except TimeoutError as exc:
                return web.json_response({"ok": False, "error": str(exc)}, status=408)
            except (ValueError, LookupError, TypeError) as exc:
                return web.json_response({"ok": False, "error": str(exc)}, status=400)

        return wrapper

    async def body(request: web.Request) -> dict[str, Any]:
        data = await request.json() if request.body_exists else {}
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    async def health(request: web.Request) -> dict[str, Any]:
        return {"base_url": api.base_url, "base_file_url": api.base_file_url}

    async def users(request: web.Request) -> dict[str, Any]:
        b = await body(request)
        p = api.user(
            b.get("first_name", "User"),
            last_name=b.get("last_name"),
            username=b.get("username"),
            language_code=b.get("language_code", "en"),
            id=b.get("id"),
            started=b.get("started", True),
        )
        return {"user": p.to_api()}

    async def supergroups(request: web.Request) -> dict[str, Any]:
        b = await body(request)
        bots = None if b.get("bots") is None else [bot_ref(x) for x in b["bots"]]
        g = api.supergroup(
            b.get("title", "Group"),
            forum=bool(b.get("forum")),
            members=[person(m) for m in b.get("members", [])],
            bots=bots,
            username=b.get("username"),
        )
        return {"chat": g.chat_api()}

    async def _send_one(b: dict[str, Any]) -> Message:
        target = chat(b.get("chat"))
        reply = None
        state_chat = target if isinstance(target, Group) else None
        if b.get("reply_to") is not None:
            st = api.chat_state(state_chat or person(b["user"]), bot_ref(b.get("bot")))[0]
            reply = st.get(int(b["reply_to"]))
        return await api.send_text(
            person(b["user"]), str(b["text"]), bot=bot_ref(b.get("bot")), chat=state_chat, topic=b.get("topic"), reply_to=reply
        )

    async def send_text(request: web.Request) -> dict[str, Any]:
        msg = await _send_one(await body(request))
        return {"message": msg.to_api(with_reply=False)}

    async def send_texts(request: web.Request) -> dict[str, Any]:
        items = (await body(request)).get("items", [])
        for item in items:
            await _send_one(item)
        return {"count": len(items)}

    async def press(request: web.Request) -> dict[str, Any]:
        b = await body(request)
        who = person(b["user"])
        target = chat(b.get("chat")) or who
        state, _ = api.chat_state(target, bot_ref(b.get("bot")))
        msg = state.messages.get(int(b["message_id"]))
        if msg is None:
            raise LookupError("unknown message")
        qid = await api.press(who, msg, b.get("label"), data=b.get("data"))
        return {"callback_query_id": qid}

    async def messages(request: web.Request) -> dict[str, Any]:
        q = request.query
        target = chat(q.get("chat"))
        if target is None:
            raise ValueError("chat is required")
        state, bot_id = api.chat_state(target, bot_ref(q.get("bot")))
        topic = int(q["topic"]) if q.get("topic") else None
        after, count, wait = int(q.get("after", 0)), int(q.get("count", 0)), float(q.get("wait", 0))

        def ready() -> list[Message]:
            new = state.bot_messages_after(after, bot_id, topic)
            return new if len(new) >= max(count, 1) else []  # empty: not yet

        found = (await world.wait_until(ready, wait)) if wait > 0 else state.bot_messages_after(after, bot_id, topic)
        return {"messages": [message_view(m) for m in found]}

    async def answer(request: web.Request) -> dict[str, Any]:
        qid = request.query["id"]
        wait = float(request.query.get("wait", 0))
        record = world.queries.get(qid)
        if record is None:
            raise LookupError("unknown callback query")
        if wait > 0:
            return {"answer": await api.wait_for_answer(qid, wait)}
        return {"answer": record.answer}

    async def topics(request: web.Request) -> dict[str, Any]:
        target = chat(request.query.get("chat"))
        if not isinstance(target, Group):
            raise ValueError("chat must be a supergroup")
        return {"topics": [{**t.to_api(), "closed": t.closed} for t in api.topics(target)]}

    async def faults(request: web.Request) -> dict[str, Any]:
        if request.method == "DELETE":
            api.clear_faults(request.query.get("method"))
            return {}
        b = await body(request)
        api.fail_next(
            b["method"],
            chat=b.get("chat"),
            status=int(b.get("status", 429)),
            retry_after=b.get("retry_after"),
            description=b.get("description"),
            times=b.get("times", 1),
            bot=bot_ref(b.get("bot")),
            delay=float(b.get("delay", 0)),
        )
        return {}

    async def block(request: web.Request) -> dict[str, Any]:
        b = await body(request)
        api.block(person(b["user"]), bot=bot_ref(b.get("bot")))
        return {}

    async def unblock(request: web.Request) -> dict[str, Any]:
        b = await body(request)
        api.unblock(person(b["user"]), bot=bot_ref(b.get("bot")))
        return {}

    async def rate_limits(request: web.Request) -> dict[str, Any]:
        b = await body(request)
        api.rate_limits(b.get("per_bot_per_second"), b.get("per_chat_per_second"), b.get("per_group_per_minute"))
        return {}

    async def advance_time(request: web.Request) -> dict[str, Any]:
        api.advance_time(float((await body(request))["seconds"]))
        return {}

    async def calls(request: web.Request) -> dict[str, Any]:
        method = request.query.get("method")
        found = api.calls_to(method) if method else api.calls
        limit = int(request.query.get("limit", 1000))
        return {
            "calls": [{"method": c.method, "params": c.params, "bot_id": c.bot_id, "status": c.status} for c in found[-limit:]]
        }

    async def stats(request: web.Request) -> dict[str, Any]:
        return api.stats()

    router = api.app.router
    router.add_get("/_standin/health", guarded(health))
    router.add_post("/_standin/users", guarded(users))
    router.add_post("/_standin/supergroups", guarded(supergroups))
    router.add_post("/_standin/send_text", guarded(send_text))
    router.add_post("/_standin/send_texts", guarded(send_texts))
    router.add_post("/_standin/press", guarded(press))
    router.add_get("/_standin/messages", guarded(messages))
    router.add_get("/_standin/answer", guarded(answer))
    router.add_get("/_standin/topics", guarded(topics))
    router.add_route("*", "/_standin/faults", guarded(faults))
    router.add_post("/_standin/block", guarded(block))
    router.add_post("/_standin/unblock", guarded(unblock))
    router.add_post("/_standin/rate_limits", guarded(rate_limits))
    router.add_post("/_standin/advance_time", guarded(advance_time))
    router.add_get("/_standin/calls", guarded(calls))
    router.add_get("/_standin/stats", guarded(stats))
