"""Refuses a WebSocket handshake from a foreign web page (cross-site WebSocket hijacking).

Browsers send the session cookie with any page's socket, so the Origin header is
what tells our own page from another site's. Allowed: an Origin whose host
Django's ALLOWED_HOSTS accepts (same matching as for the Host header), or one
that is exactly a development origin in settings.DEV_ORIGINS (the Vite server).

A handshake without an Origin header is allowed: browsers always send one, so
only non-browser clients (the load generator, scripts) omit it, and those could
send any Origin they liked anyway; they still need a session to get past 4401.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _allowed_hosts() -> list[str]:
    # As Django does for Host: with DEBUG and no ALLOWED_HOSTS, local names pass.
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


def origin_allowed(origin: str) -> bool:
    if origin in settings.DEV_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        return False
    domain, _port = split_domain_port(parts.netloc)
    return bool(domain) and validate_host(domain, _allowed_hosts())


class OriginCheck:
    """ASGI middleware: a websocket with a foreign Origin is closed before accept (HTTP 403)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
            if origins and not all(origin_allowed(value.decode("latin-1")) for value in origins):
                await self._refuse(receive, send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, receive, send):
        # Wait for the connect event, then close: a close before accept makes
        # the server answer the handshake with 403.
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})
            elif message["type"] == "websocket.disconnect":
                return
