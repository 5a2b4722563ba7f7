"""Who may use the studio: whoever opened the printed address, from this machine, and nobody else.

The studio listens on 127.0.0.1 only, but other people and programs on the same machine can
reach that too, and a web page in the organiser's own browser can try to. So:

- the printed address carries a one-time token; opening it sets a cookie that only this
  studio process knows (SameSite=Strict, HttpOnly) and sends the browser on to the same page
  without the token, which no longer works for anyone else;
- every request needs that cookie (or the unused token);
- the Host header must name 127.0.0.1 or localhost (a rebound DNS name pointing at this
  machine is refused), and a request that changes something must come from the studio's own
  page (its Origin, when the browser sends one, is the studio's).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

COOKIE = "bots_studio"
LOCAL_HOSTS = ("127.0.0.1", "localhost")

REFUSED = """<!doctype html><meta charset="utf-8"><title>bots studio</title>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Open the address that <code>bots studio</code> printed</h1>
<p>This studio only answers the browser that opened the address it printed, with its token.
The token works once: to open the studio in another browser, stop <code>bots studio</code>
(Ctrl-C) and start it again for a new address.</p></body>"""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Access:
    def __init__(self, token: str | None = None) -> None:
        self.token: str | None = token or secrets.token_urlsafe(24)
        self.session = secrets.token_urlsafe(32)  # the cookie's value, never printed

    def _host_is_local(self, request: web.Request) -> bool:
        host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host
        return host in LOCAL_HOSTS

    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        return origin is None or origin == f"http://{request.host}"

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self._host_is_local(request):
            return web.Response(status=403, text="bots studio answers on 127.0.0.1 only\n")
        if request.method not in ("GET", "HEAD") and not self._same_origin(request):
            return web.Response(status=403, text="refused: not from the studio's own page\n")
        if secrets.compare_digest(request.cookies.get(COOKIE, ""), self.session):
            return await handler(request)
        offered = request.query.get("token", "")
        if self.token is not None and offered and secrets.compare_digest(offered, self.token):
            self.token = None  # used up: the address no longer opens the studio for anyone else
            response = web.Response(status=303, headers={"Location": request.path or "/"})
            response.set_cookie(COOKIE, self.session, httponly=True, samesite="Strict", path="/")
            return response
        if request.path.startswith("/api/"):
            return web.json_response({"error": "open the address that bots studio printed"}, status=403)
        return web.Response(status=403, text=REFUSED, content_type="text/html")
