"""One redis.asyncio client per event loop and URL (settings.REDIS_URL by default).

A redis.asyncio connection belongs to the loop that opened it, so a client is
never shared between loops (Daphne has one; each async test has its own).
The rate limiter uses the client of its loop; presence's and the socket
registry's scripts (PrefixedScripts) go through chat/redismux.py's pipelined
connection instead, and through this client only for URLs that one does not
speak (`rediss://`, `unix://`).
"""

import asyncio
import weakref

import redis.asyncio as aioredis
from django.conf import settings

from chat import deadlines
from chat.redismux import get_multiplexer

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


# Connections of one process's client to one Redis: a call holds one for a
# round trip, so a few dozen carry thousands of calls a second.
CONNECTIONS = 32

# redis-py names itself to every new connection (CLIENT SETINFO, two more
# round trips, refused by Redis before 7.2) and reads its own version from the
# installed package's metadata for it, a scan of sys.path each time.
NO_CLIENT_SETINFO = {"driver_info": None}


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
        # At most CONNECTIONS at once; a call beyond them waits for one (within
        # its own deadline, deadlines.redis). The default pool opens a
        # connection for every call in flight: 2,000 sockets closing at once
        # opened about 3,800 connections (bench S4).
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=CONNECTIONS,
            timeout=None,
            decode_responses=True,
            socket_timeout=settings.CHAT_REDIS_TIMEOUT,
            socket_connect_timeout=settings.CHAT_REDIS_TIMEOUT,
            health_check_interval=30,
            **NO_CLIENT_SETINFO,
        )
        client = aioredis.Redis.from_pool(pool)
        per_loop[url] = client
    return client


def shard_urls() -> list[str]:
    """The Redis servers rooms are spread over (presence; the channel layer takes
    the same list in settings): REDIS_URLS when it names several, else REDIS_URL
    alone, else none. Rate limits and the socket registry stay on REDIS_URL."""
    urls = list(getattr(settings, "REDIS_URLS", None) or [])
    if len(urls) > 1:
        return urls
    return [settings.REDIS_URL] if settings.REDIS_URL else []


def per_loop_cache(name: str) -> dict:
    """A dict private to the running loop, for objects that hold a loop's client."""
    loop = asyncio.get_running_loop()
    return _loop_caches.setdefault(loop, {}).setdefault(name, {})


_loop_caches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, dict]]" = (
    weakref.WeakKeyDictionary()
)


class PrefixedScripts:
    """Lua scripts that build their keys from a prefix (one Redis, not a cluster):
    run with ARGV = prefix, now, *args and a deadline, by digest (chat/redismux.py).

    `now` is the caller's clock (tests) or "" for the Redis server's own TIME,
    so every process shares one clock. Presence and the socket registry use it.
    """

    def __init__(self, *, url: str | None, prefix: str, clock=None, what: str):
        self.url = url
        self.prefix = prefix
        self.clock = clock
        self.what = what
        self._scripts: dict[str, object] = {}

    async def run(self, source: str, *args):
        now = "" if self.clock is None else repr(self.clock())
        args = (self.prefix, now, *args)
        multiplexer = get_multiplexer(self.url or settings.REDIS_URL, timeout=settings.CHAT_REDIS_TIMEOUT)
        if multiplexer is not None:  # pipelined with the process's other hot calls (chat/redismux.py)
            return await deadlines.redis(multiplexer.script(source, args=args), self.what)
        client = get_redis(self.url)
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = client.register_script(source)
        return await deadlines.redis(script(keys=[], args=list(args), client=client), self.what)
