"""Bench-only experiment: config.asgi with the session resolved once per socket.

channels' AuthMiddlewareStack = CookieMiddleware(SessionMiddleware(AuthMiddleware(...))),
and SessionMiddleware wraps the ASGI `send` of every socket in InstanceSessionWrapper,
which on every outbound frame reads scope["session"].modified and .is_empty()
through a LazyObject to decide whether to save the session. A chat socket never
changes its session, so here the session and the user are looked up once at
the handshake and `send` is left unwrapped. Used to measure what that wrapper
costs per delivered frame:

    .venv/bin/python backend/bench/fanout.py --app bench.variant_asgi:application ...
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import get_user  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.http.cookie import parse_cookie  # noqa: E402
from importlib import import_module  # noqa: E402

from chat.origin import OriginCheck  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


class SessionAuthOnce:
    """Sets scope cookies, session and user at the handshake; does not wrap send."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        cookies = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookies.update(parse_cookie(value.decode("latin1")))
        scope = dict(scope, cookies=cookies)
        scope["session"] = SessionStore(cookies.get(settings.SESSION_COOKIE_NAME))
        scope["user"] = await get_user(scope)
        return await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginCheck(SessionAuthOnce(URLRouter(websocket_urlpatterns))),
    }
)
