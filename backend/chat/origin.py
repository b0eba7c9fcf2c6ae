"""Refuses a WebSocket handshake from a foreign web page (cross-site WebSocket hijacking).

Browsers send the session cookie with any page's socket, so the Origin header is
what tells our own page from another one. Allowed, compared as whole origins
(scheme, host and port):

- the origin of the page the socket belongs to: the scheme and Host the request
  came to (behind the proxy, `X-Forwarded-Proto` and, when Django trusts it,
  `X-Forwarded-Host`), with a Host that ALLOWED_HOSTS accepts;
- exactly one of settings.DEV_ORIGINS (the Vite dev server).

Another port or scheme of an allowed host is another origin, and is refused:
any other program on the host could serve it. (Channels' AllowedHostsOriginValidator
compares the host only.)

A handshake without an Origin header is allowed: browsers always send one, so
only non-browser clients (the load generator, scripts) omit it, and those could
send any Origin they liked anyway; they still need a session to get past 4401.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": "80", "https": "443"}
SOCKET_SCHEMES = {"ws": "http", "wss": "https"}


def _allowed_hosts() -> list[str]:
    # As Django does for Host: with DEBUG and no ALLOWED_HOSTS, local names pass.
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


@functools.lru_cache(maxsize=1024)  # a handful of origins send every handshake
def normalize(origin: str) -> str | None:
    """"HTTP://Example.com:80" -> "http://example.com"; None for what is not an http(s) origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port  # raises ValueError for a port out of range
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in {"", "/"}:
        return None
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if port is not None and str(port) != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def _header(scope, name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", ()) if key == name]
    if len(values) != 1:
        return None  # absent, or repeated (ambiguous)
    return values[0].decode("latin-1").split(",")[0].strip() or None


def page_origin(scope) -> str | None:
    """The origin of a page of ours that may open this socket, or None."""
    host = None
    if settings.USE_X_FORWARDED_HOST:
        host = _header(scope, b"x-forwarded-host")
    host = host or _header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host.lower())
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    scheme = SOCKET_SCHEMES.get(scope.get("scheme", "ws"), "http")
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        forwarded = _header(scope, proxy_header[0].removeprefix("HTTP_").replace("_", "-").lower().encode())
        if forwarded and forwarded.lower() in DEFAULT_PORTS:
            scheme = forwarded.lower()
    return normalize(f"{scheme}://{host}")


def origin_allowed(origin: str, scope) -> bool:
    candidate = normalize(origin)
    if candidate is None:
        return False
    if candidate in {normalize(dev) for dev in settings.DEV_ORIGINS}:
        return True
    return candidate == page_origin(scope)


class OriginCheck:
    """ASGI middleware: a websocket with a foreign Origin is closed before accept (HTTP 403)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
            if origins and not all(origin_allowed(value.decode("latin-1"), scope) for value in origins):
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
