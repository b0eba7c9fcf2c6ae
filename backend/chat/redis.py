"""One redis.asyncio client per event loop, from settings.REDIS_URL.

A redis.asyncio connection belongs to the loop that opened it, so a client is
never shared between loops (Daphne has one; each async test has its own).
Presence and the rate limiter share the client of their loop.
"""

import asyncio
import weakref

import redis.asyncio as aioredis
from django.conf import settings

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def get_redis(url: str | None = None) -> aioredis.Redis:
    """The client for `url` (default settings.REDIS_URL) on the running loop."""
    url = url or settings.REDIS_URL
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(url)
    if client is None:
        # Every call of this client is a request and its reply (no blocking
        # reads, unlike the channel layer's receive), so a read that takes longer
        # than the Redis timeout means a stalled Redis, not an idle socket.
        client = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=settings.CHAT_REDIS_TIMEOUT,
            socket_connect_timeout=settings.CHAT_REDIS_TIMEOUT,
            health_check_interval=30,
        )
        per_loop[url] = client
    return client


def per_loop_cache(name: str) -> dict:
    """A dict private to the running loop, for objects that hold a loop's client."""
    loop = asyncio.get_running_loop()
    return _loop_caches.setdefault(loop, {}).setdefault(name, {})


_loop_caches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, dict]]" = (
    weakref.WeakKeyDictionary()
)
