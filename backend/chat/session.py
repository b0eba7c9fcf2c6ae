"""The socket's session and user, read once at the handshake.

Channels' AuthMiddlewareStack reads them too, but it also wraps the socket's
`send` so that a session modified during the connection gets saved: on every
outbound frame it asks the lazy session whether it changed. A chat socket
never changes its session, and that check was about a fifth of our cost per
delivered frame (backend/bench). This middleware leaves `send` alone.
"""

import logging
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth
from django.http.cookie import parse_cookie

from chat import deadlines
from chat.events import log_failure

log = logging.getLogger(__name__)


def _session_user(session):
    # Django's own get_user: it checks the session's auth hash, so a logged-out
    # or password-changed session is anonymous here (and closed with 4401).
    return auth.get_user(SimpleNamespace(session=session))


class SessionAuthMiddleware:
    """Sets scope["cookies"], scope["session"] and scope["user"] for a websocket."""

    def __init__(self, app):
        self.app = app
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        cookies: dict[str, str] = {}
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies.update(parse_cookie(value.decode("latin1")))
        scope = dict(scope, cookies=cookies)
        scope["session"] = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        try:
            # In a database thread of its own (not Channels' one shared thread), with a
            # deadline: a stalled database must not hold every other handshake up.
            scope["user"] = await deadlines.db(_session_user)(scope["session"])
        except Exception as error:
            # The consumer closes such a socket with 1013 (try again later).
            log_failure(log, "could not read the session of a socket", error)
            scope["user"], scope["user_unavailable"] = None, True
        return await self.app(scope, receive, send)
