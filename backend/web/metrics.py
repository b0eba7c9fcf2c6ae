"""GET /metrics: this process's counters (chat/metrics.py) in Prometheus' text format.

An ASGI app in front of Django (config/asgi.py), so a scrape neither runs the
middleware nor touches the session. It answers only

- a peer in CHAT_METRICS_ALLOW: the address of the TCP connection itself, as
  our server puts it in the scope (chat.transport.PEER_EXTENSION), never the
  client address Daphne takes from X-Forwarded-For behind a proxy; or
- a request with `Authorization: Bearer <CHAT_METRICS_TOKEN>`, when one is set.

Anyone else, and everyone when CHAT_METRICS=0, gets the same 404 as any
unknown path. The compose file's nginx answers /metrics with 404 itself: its
own address is a private one, which the default allow list lets in.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import cached_property

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from chat.transport import PEER_EXTENSION

PATH = "/metrics"


class MetricsEndpoint:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        if settings.CHAT_METRICS and scope["method"] in ("GET", "HEAD") and self.allowed(scope):
            await _answer(send, 200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY), head=scope["method"] == "HEAD")
        else:
            await _answer(send, 404, "text/plain; charset=utf-8", b"404 not found\n")

    def allowed(self, scope) -> bool:
        peer = scope.get("extensions", {}).get(PEER_EXTENSION)
        if peer and self._peer_allowed(peer):
            return True
        token = settings.CHAT_METRICS_TOKEN
        if not token:
            return False
        given = dict(scope.get("headers", ())).get(b"authorization", b"")
        return hmac.compare_digest(given, b"Bearer " + token.encode())

    def _peer_allowed(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)

    @cached_property
    def _networks(self) -> list:
        return [ipaddress.ip_network(cidr, strict=False) for cidr in settings.CHAT_METRICS_ALLOW]


async def _answer(send, status: int, content_type: str, body: bytes, head: bool = False) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store")],
    })
    await send({"type": "http.response.body", "body": b"" if head else body})
