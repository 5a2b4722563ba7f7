"""Bot API errors as Telegram formats them: ``{"ok": false, "error_code": N, "description": ...}``."""

from __future__ import annotations

from typing import Any

# Telegram's canonical descriptions used by the stand-in.
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
CHAT_NOT_FOUND = "chat not found"
MESSAGE_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "message to edit not found"
DELETE_NOT_FOUND = "message to delete not found"
CANT_DELETE = "message can't be deleted"
THREAD_NOT_FOUND = "message thread not found"
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_SUPPORTED = "method not supported by the stand-in"
BLOCKED = "bot was blocked by the user"
CANT_INITIATE = "bot can't initiate conversation with a user"
WEBHOOK_ACTIVE = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
OTHER_POLLER = "terminated by other getUpdates request; make sure that only one bot instance is running"

_PREFIX = {
    400: "Bad Request: ",
    403: "Forbidden: ",
    409: "Conflict: ",
    429: "Too Many Requests: ",
}
_BARE = {401: UNAUTHORIZED, 404: NOT_FOUND, 500: "Internal Server Error", 502: "Bad Gateway"}


class ApiError(Exception):
    """An error answer of the Bot API; ``to_json()`` is the exact body Telegram would send."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        """The response body: ``ok``, ``error_code``, ``description`` and maybe ``parameters``."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """400 ``Bad Request: <detail>``."""
    return ApiError(400, "Bad Request: " + detail)


def forbidden(detail: str) -> ApiError:
    """403 ``Forbidden: <detail>``."""
    return ApiError(403, "Forbidden: " + detail)


def conflict(detail: str) -> ApiError:
    """409 ``Conflict: <detail>``."""
    return ApiError(409, "Conflict: " + detail)


def too_many_requests(retry_after: int) -> ApiError:
    """429 ``Too Many Requests: retry after N`` with ``parameters.retry_after``."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def error_for_status(status: int, description: str | None = None, retry_after: int | None = None) -> ApiError:
    """Build an injected error for ``status`` with Telegram's usual wording when none is given."""
    if status == 429:
        ra = int(retry_after if retry_after is not None else 1)
        err = too_many_requests(ra)
        if description:
            err.description = description
        return err
    if description is None:
        if status == 403:
            description = "Forbidden: " + BLOCKED
        elif status in _BARE:
            description = _BARE[status]
        else:
            description = _PREFIX.get(status, "Error: ") + "injected by the stand-in"
    elif status in _PREFIX and not description.startswith(_PREFIX[status]):
        description = _PREFIX[status] + description
    params = {"retry_after": int(retry_after)} if retry_after is not None else None
    return ApiError(status, description, params)
