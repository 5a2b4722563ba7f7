"""Bot API handlers for the bot itself, updates, webhooks, commands, chats and forum topics."""

from __future__ import annotations

import re
from typing import Any, Callable

from bots.testing.standin.context import Ctx, Result
from bots.testing.standin.errors import THREAD_NOT_FOUND, bad_request
from bots.testing.standin.model import DEFAULT_TOPIC_COLOR, ChatState, Group, Message, Topic
from bots.testing.standin.updates import Webhook

TOPIC_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANG_RE = re.compile(r"[a-z]{2}")
_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}
ALLOW_HTTP_WEBHOOKS = True  # the stand-in lives on loopback; Telegram itself demands HTTPS


def get_me(ctx: Ctx) -> dict[str, Any]:
    """getMe."""
    return ctx.bot.account.get_me()


def log_out(ctx: Ctx) -> bool:
    """logOut / close: accepted, nothing to do."""
    return True


async def get_updates(ctx: Ctx) -> list[dict[str, Any]]:
    """getUpdates with offset confirmation, limit and long polling."""
    p = ctx.params
    allowed = p.get("allowed_updates")
    return await ctx.bot.queue.get_updates(
        p.get("offset"), p.get("limit"), p.get("timeout"), allowed if isinstance(allowed, list) else None
    )


def set_webhook(ctx: Ctx) -> Result:
    """setWebhook (an empty url removes the webhook, as on Telegram)."""
    p = ctx.params
    url = str(p.get("url") or "")
    queue = ctx.bot.queue
    if not url:
        had = queue.remove_webhook(bool(p.get("drop_pending_updates"))) is not None
        return Result(True, "Webhook was deleted" if had else "Webhook is already deleted")
    if not url.startswith("https://") and not (ALLOW_HTTP_WEBHOOKS and url.startswith("http://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.get("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    max_conn = min(max(int(p.get("max_connections") or 40), 1), 100)
    allowed = p.get("allowed_updates") if isinstance(p.get("allowed_updates"), list) else None
    queue.set_allowed(allowed)
    hook = Webhook(url, secret or None, max_conn, allowed, "certificate" in p, p.get("ip_address") or "127.0.0.1")
    queue.set_webhook(hook, bool(p.get("drop_pending_updates")))
    return Result(True, "Webhook was set")


def delete_webhook(ctx: Ctx) -> Result:
    """deleteWebhook (drop_pending_updates drops the queue)."""
    had = ctx.bot.queue.remove_webhook(bool(ctx.params.get("drop_pending_updates"))) is not None
    return Result(True, "Webhook was deleted" if had else "Webhook is already deleted")


def get_webhook_info(ctx: Ctx) -> dict[str, Any]:
    """getWebhookInfo."""
    return ctx.bot.queue.info()


# -- commands ---------------------------------------------------------------------------------
def scope_key(ctx: Ctx, scope: Any) -> tuple[Any, ...]:
    """A hashable key for a BotCommandScope object (chat scopes resolve their chat)."""
    if scope is None:
        return ("default",)
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return (kind,)
    if kind in ("chat", "chat_administrators", "chat_member"):
        state = ctx.world.resolve_chat(ctx.bot, scope.get("chat_id"), membership=False)
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id not in ctx.world.people:
                raise bad_request("user not found")
            return (kind, state.chat_id, user_id)
        return (kind, state.chat_id)
    raise bad_request("unsupported bot command scope type")


def _commands_key(ctx: Ctx) -> tuple[tuple[Any, ...], str]:
    lang = ctx.params.get("language_code") or ""
    if lang and not _LANG_RE.fullmatch(lang):
        raise bad_request("invalid language code specified")
    return scope_key(ctx, ctx.params.get("scope")), lang


def set_my_commands(ctx: Ctx) -> bool:
    """setMyCommands for one (scope, language_code); an empty list deletes."""
    commands = ctx.params["commands"]
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    clean: list[dict[str, Any]] = []
    for cmd in commands:
        if not isinstance(cmd, dict) or not _COMMAND_RE.fullmatch(str(cmd.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        desc = cmd.get("description")
        if not isinstance(desc, str) or not 1 <= len(desc) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": cmd["command"], "description": desc})
    key = _commands_key(ctx)
    if clean:
        ctx.bot.commands[key] = clean
    else:
        ctx.bot.commands.pop(key, None)
    return True


def get_my_commands(ctx: Ctx) -> list[dict[str, Any]]:
    """getMyCommands: exactly the list of that scope and language (no fallback)."""
    return list(ctx.bot.commands.get(_commands_key(ctx), []))


def delete_my_commands(ctx: Ctx) -> bool:
    """deleteMyCommands."""
    ctx.bot.commands.pop(_commands_key(ctx), None)
    return True


# -- chats ------------------------------------------------------------------------------------
def admin_member(user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMemberAdministrator with the rights a helper bot gets (incl. managing topics)."""
    rights = dict.fromkeys(
        (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
            "can_manage_topics",
        ),
        True,
    )
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_promote_members": False,
        **rights,
    }


def get_chat(ctx: Ctx) -> dict[str, Any]:
    """getChat → ChatFullInfo."""
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"], membership=False)
    info = {**state.chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": dict(_NO_GIFTS)}
    if state.group is not None:
        info["permissions"] = {"can_send_messages": True}
    return info


def _group(ctx: Ctx, state: ChatState, detail: str) -> Group:
    if state.group is None:
        raise bad_request(detail)
    return state.group


def get_chat_member(ctx: Ctx) -> dict[str, Any]:
    """getChatMember: bots in a group are administrators, members are members."""
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"])
    user_id = ctx.params["user_id"]
    bot = ctx.world.bots_by_id.get(user_id)
    person = ctx.world.people.get(user_id)
    if bot is None and person is None:
        raise bad_request("user not found")
    user = bot.account.to_api() if bot is not None else person.to_api()  # type: ignore[union-attr]
    if state.group is None:
        return {"status": "member", "user": user}
    if bot is not None:
        return admin_member(user) if user_id in state.group.bots else {"status": "left", "user": user}
    return {"status": "member" if user_id in state.group.members else "left", "user": user}


def get_chat_administrators(ctx: Ctx) -> list[dict[str, Any]]:
    """getChatAdministrators: the bots of the group."""
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"])
    group = _group(ctx, state, "there are no administrators in the private chat")
    return [admin_member(ctx.world.bots_by_id[b].account.to_api()) for b in sorted(group.bots) if b in ctx.world.bots_by_id]


def get_chat_member_count(ctx: Ctx) -> int:
    """getChatMemberCount."""
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"])
    return 2 if state.group is None else len(state.group.members) + len(state.group.bots)


def leave_chat(ctx: Ctx) -> bool:
    """leaveChat: the bot leaves a group (later sends get 403) and receives my_chat_member."""
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"])
    group = _group(ctx, state, "chat member status can't be changed in private chats")
    group.bots.discard(ctx.bot.id)
    me = ctx.bot.account.to_api()
    ctx.bot.queue.push(
        "my_chat_member",
        {
            "chat": state.chat,
            "from": me,
            "date": int(ctx.world.now()),
            "old_chat_member": admin_member(me),
            "new_chat_member": {"status": "left", "user": me},
        },
        group.id,
    )
    return True


# -- forum topics ------------------------------------------------------------------------------
def _forum(ctx: Ctx) -> tuple[ChatState, Group]:
    state = ctx.world.resolve_chat(ctx.bot, ctx.params["chat_id"])
    group = _group(ctx, state, "the chat is not a forum")
    if not group.is_forum:
        raise bad_request("the chat is not a forum")
    return state, group


def _topic(ctx: Ctx) -> tuple[ChatState, Group, Topic]:
    state, group = _forum(ctx)
    topic = group.topics.get(ctx.params["message_thread_id"])
    if topic is None or topic.deleted:
        raise bad_request(THREAD_NOT_FOUND)
    return state, group, topic


def create_forum_topic(ctx: Ctx) -> dict[str, Any]:
    """createForumTopic: the topic id is the id of its creation service message."""
    p = ctx.params
    state, group = _forum(ctx)
    name = str(p["name"])
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    color = p.get("icon_color", DEFAULT_TOPIC_COLOR)
    if color not in TOPIC_COLORS:
        raise bad_request("ICON_COLOR_INVALID")
    tid = state.new_id()
    topic = Topic(tid, name, color, p.get("icon_custom_emoji_id") or None)
    group.topics[tid] = topic
    created: dict[str, Any] = {"name": name, "icon_color": color}
    if topic.icon_custom_emoji_id:
        created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    state.add(
        Message(
            tid,
            state.chat,
            ctx.bot.account.to_api(),
            int(ctx.world.now()),
            bot_id=ctx.bot.id,
            thread_id=tid,
            service=True,
            extra={"forum_topic_created": created},
        )
    )
    ctx.world.notify()
    return topic.to_api()


def edit_forum_topic(ctx: Ctx) -> bool:
    """editForumTopic: name and/or icon_custom_emoji_id."""
    p = ctx.params
    _state, _group_, topic = _topic(ctx)
    name = p.get("name") or topic.name
    emoji = topic.icon_custom_emoji_id if p.get("icon_custom_emoji_id") is None else (p["icon_custom_emoji_id"] or None)
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    if name == topic.name and emoji == topic.icon_custom_emoji_id:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name, topic.icon_custom_emoji_id = name, emoji
    ctx.world.notify()
    return True


def _set_closed(ctx: Ctx, closed: bool) -> bool:
    _state, _group_, topic = _topic(ctx)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    ctx.world.notify()
    return True


def delete_forum_topic(ctx: Ctx) -> bool:
    """deleteForumTopic: the topic and all its messages are deleted."""
    state, _group_, topic = _topic(ctx)
    topic.deleted = True
    for msg in state.messages.values():
        if msg.thread_id == topic.thread_id or msg.message_id == topic.thread_id:
            msg.deleted = True
    ctx.world.notify()
    return True


HANDLERS: dict[str, Callable[[Ctx], Any]] = {
    "getme": get_me,
    "logout": log_out,
    "close": log_out,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "getchatmembercount": get_chat_member_count,
    "leavechat": leave_chat,
    "createforumtopic": create_forum_topic,
    "editforumtopic": edit_forum_topic,
    "closeforumtopic": lambda ctx: _set_closed(ctx, True),
    "reopenforumtopic": lambda ctx: _set_closed(ctx, False),
    "deleteforumtopic": delete_forum_topic,
}
# setWebhook validates its own fields: an empty url is allowed there (it removes the webhook).
NO_REQUIRED_CHECK = frozenset({"setwebhook"})
