"""How many sockets each user holds, on every process: at most CHAT_MAX_SOCKETS_PER_USER.

In this process's memory without Redis. With Redis, a ZSET per user (conn ->
expiry) that each process refreshes at its hub's heartbeat, as presence is: the
sockets of a killed process stop counting once their entries expire (the
presence TTL), so a crash never locks a user out for long.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings

from chat import metrics
from chat.events import log_failure
from chat.redis import PrefixedScripts, per_loop_cache

log = logging.getLogger(__name__)

SocketEntry = tuple[int, str]  # (user id, conn)


async def claim_socket(*, user_id: int, conn: str) -> bool:
    """Whether a new socket of the user may stay (CHAT_MAX_SOCKETS_PER_USER); with
    Redis away it may: better than shutting everybody out."""
    try:
        claimed = await get_socket_registry().claim(user_id=user_id, conn=conn, limit=settings.CHAT_MAX_SOCKETS_PER_USER)
    except Exception as error:
        log_failure(log, "socket registry unavailable; letting a socket in", error)
        return True
    if not claimed:
        metrics.socket_refused()
    return claimed


def get_socket_registry():
    """The registry for the running event loop (and the current settings)."""
    url, ttl = settings.REDIS_URL, float(settings.CHAT_PRESENCE_TTL)
    registries = per_loop_cache("sockets")
    registry = registries.get((url, ttl))
    if registry is None:
        registry = RedisSocketRegistry(url=url, ttl=ttl) if url else MemorySocketRegistry()
        registries[(url, ttl)] = registry
    return registry


class MemorySocketRegistry:
    def __init__(self):
        self._conns: dict[int, set[str]] = {}

    async def claim(self, *, user_id: int, conn: str, limit: int) -> bool:
        """Counts the socket unless the user already holds `limit`; whether it may stay."""
        conns = self._conns.setdefault(user_id, set())
        if conn not in conns and len(conns) >= limit:
            return False
        conns.add(conn)
        return True

    async def release(self, *, user_id: int, conn: str) -> None:
        conns = self._conns.get(user_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._conns[user_id]

    async def refresh(self, *, entries: list[SocketEntry]) -> None:
        """Nothing to refresh: this process's memory dies with its sockets."""


# KEYS: none (names are built from the prefix, as presence does: one Redis, not a
# cluster). ARGV: prefix, now (empty: the server's clock), ttl, then the call's own.
_PRELUDE = """
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local ttl = tonumber(ARGV[3])
"""

# ARGV[4..6]: user id, conn, limit. 1 if counted, 0 if the user is at the limit.
_CLAIM = _PRELUDE + """
local key = prefix .. ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if not redis.call('ZSCORE', key, ARGV[5]) and redis.call('ZCARD', key) >= tonumber(ARGV[6]) then
  return 0
end
redis.call('ZADD', key, now + ttl, ARGV[5])
redis.call('PEXPIRE', key, math.ceil(ttl * 1000))
return 1
"""

# ARGV[4..]: pairs of user id, conn: each entry's expiry moves on (made again if gone).
_REFRESH = _PRELUDE + """
for i = 4, #ARGV, 2 do
  local key = prefix .. ARGV[i]
  redis.call('ZADD', key, now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', key, math.ceil(ttl * 1000))
end
return 1
"""

# ARGV[4..5]: user id, conn.
_RELEASE = _PRELUDE + """
redis.call('ZREM', prefix .. ARGV[4], ARGV[5])
return 1
"""


class RedisSocketRegistry:
    def __init__(self, *, ttl: float, url: str | None = None, prefix: str = "chat:sockets:",
                 clock: Callable[[], float] | None = None):
        self.ttl = ttl
        self._scripts = PrefixedScripts(url=url, prefix=prefix, clock=clock, what="socket registry")

    async def claim(self, *, user_id: int, conn: str, limit: int) -> bool:
        return bool(await self._run(_CLAIM, user_id, conn, limit))

    async def release(self, *, user_id: int, conn: str) -> None:
        await self._run(_RELEASE, user_id, conn)

    async def refresh(self, *, entries: list[SocketEntry]) -> None:
        if entries:
            await self._run(_REFRESH, *(part for entry in entries for part in entry))

    async def _run(self, source: str, *args):
        return await self._scripts.run(source, repr(self.ttl), *args)
