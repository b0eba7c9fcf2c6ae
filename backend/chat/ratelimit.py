"""Rate limits: a sliding window per key, in memory or in Redis.

A rate is "N/Ws" (or "N/W", seconds): a hit is allowed when fewer than N hits
were allowed in the last W seconds. A refused hit is not counted, so a client
that keeps hammering gets through again once its old hits age out. Each limit
is a setting (RATE_SETTINGS); callers namespace their keys ("send:42").
"""

import functools
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chat import deadlines
from chat.events import is_outage, log_failure
from chat.redis import get_redis, per_loop_cache
from chat.services import SendRate

log = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")


# Every rate setting; check_settings validates them all at startup.
RATE_SETTINGS = ("CHAT_SEND_RATE", "CHAT_ROOM_CREATE_RATE", "CHAT_SIGNUP_RATE")


def parse_rate(text: str, name: str = "CHAT_SEND_RATE") -> tuple[int, float]:
    """"20/10s" -> (20, 10.0); anything else raises ImproperlyConfigured."""
    match = _RATE.match(text or "")
    if not match or int(match[1]) < 1 or float(match[2]) <= 0:
        raise ImproperlyConfigured(f'{name} must look like "20/10s", not {text!r}')
    return int(match[1]), float(match[2])


def check_settings() -> None:
    """Called at startup so a bad rate setting stops the server at once."""
    for name in RATE_SETTINGS:
        parse_rate(getattr(settings, name), name)


def get_limiter(name: str):
    """The limiter of the rate setting `name` for the running event loop (and the
    current settings): in Redis when REDIS_URL is set, so it holds across processes."""
    url, rate = settings.REDIS_URL, getattr(settings, name)
    limiters = per_loop_cache("ratelimit")
    limiter = limiters.get((url, name, rate))
    if limiter is None:
        limit, window = parse_rate(rate, name)
        if url:
            limiter = RedisRateLimiter(limit=limit, window=window, url=url)
        else:
            limiter = MemoryRateLimiter(limit=limit, window=window)
        limiters[(url, name, rate)] = limiter
    return limiter


def get_send_rate() -> SendRate:
    """CHAT_SEND_RATE. Not a limiter: the store counts a user's recent messages
    in the send's own statement (chat/services/sendstatement.py), so the limit
    holds across processes without a Redis round trip, and a resend, storing
    nothing, is not counted."""
    return _send_rate(settings.CHAT_SEND_RATE)


@functools.cache
def _send_rate(text: str) -> SendRate:
    limit, window = parse_rate(text, "CHAT_SEND_RATE")
    return SendRate(limit=limit, window=window)


# ---- in memory ---------------------------------------------------------------


class MemoryRateLimiter:
    def __init__(
        self,
        *,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        keys_tracked: int = 1024,
    ):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._keys_tracked = keys_tracked
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, key: str) -> bool:
        return self.allow(key)

    def allow(self, key: str) -> bool:
        """`hit` without the await, for a caller that must not yield (chat/announce.py)."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        self._forget_idle(now)
        return True

    async def retry_after(self, key: str) -> float:
        """Seconds until a hit on `key` would be allowed; 0 if it would be now."""
        now = self._clock()
        live = [t for t in self._hits.get(key, ()) if t > now - self.window]
        if len(live) < self.limit:
            return 0.0
        # The hit that must age out before the count drops below the limit.
        return live[len(live) - self.limit] + self.window - now

    def record(self, key: str) -> None:
        """Counts a hit that happens whether or not the limit allows it."""
        self._hits.setdefault(key, deque()).append(self._clock())

    def _forget_idle(self, now: float) -> None:
        # Keep memory bounded by active keys: drop keys whose hits all aged out.
        if len(self._hits) > self._keys_tracked:
            for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
                del self._hits[key]


# ---- in Redis ----------------------------------------------------------------

# KEYS[1]: the key's ZSET of hit id -> time. ARGV: limit, window, hit id, now
# (empty: Redis server TIME, so every process shares one clock).
_HIT = """
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return 1
"""


# KEYS[1], ARGV: limit, window, now (as _HIT). A string: Redis would cut a Lua
# number to an integer.
_RETRY_AFTER = """
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class RedisRateLimiter:
    prefix = "chat:ratelimit:"

    def __init__(self, *, limit: int, window: float, url: str | None = None, clock: Callable[[], float] | None = None):
        self.limit = limit
        self.window = window
        self._url = url
        self._clock = clock
        self._script = None
        self._retry_script = None

    async def hit(self, key: str) -> bool:
        try:
            return await deadlines.redis(self._hit(key), "rate limit")
        except Exception as error:
            if not is_outage(error):
                raise
            # Redis is away (or hanging) but the database may be up: the send
            # goes through unlimited rather than failing, and the limit applies
            # again as soon as Redis answers.
            log_failure(log, "rate limit unavailable; letting a send through", error)
            return True

    async def _hit(self, key: str) -> bool:
        client = get_redis(self._url)
        if self._script is None:
            self._script = client.register_script(_HIT)
        now = "" if self._clock is None else repr(self._clock())
        allowed = await self._script(
            keys=[self.prefix + key], args=[self.limit, repr(self.window), uuid.uuid4().hex, now]
        )
        return bool(allowed)

    async def retry_after(self, key: str) -> float:
        """Seconds until a hit on `key` would be allowed; 0 if it would be now
        (or if Redis is away, since hits are then let through)."""
        try:
            return await deadlines.redis(self._retry_after(key), "rate limit retry time")
        except Exception as error:
            if not is_outage(error):
                raise
            log_failure(log, "rate limit unavailable; no retry time", error)
            return 0.0

    async def _retry_after(self, key: str) -> float:
        client = get_redis(self._url)
        if self._retry_script is None:
            self._retry_script = client.register_script(_RETRY_AFTER)
        now = "" if self._clock is None else repr(self._clock())
        seconds = await self._retry_script(keys=[self.prefix + key], args=[self.limit, repr(self.window), now])
        return max(0.0, float(seconds))


# ---- per socket ----------------------------------------------------------------


class TokenBucket:
    """Every frame of a socket takes a token; the bucket holds `burst` and refills
    at `rate` per second. Local to the socket, so no Redis round trip per frame."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Throttle:
    """At most one event per key per `interval` seconds (typing per room)."""

    def __init__(self, *, interval: float, clock: Callable[[], float] = time.monotonic, keys_tracked: int = 1024):
        self.interval = interval
        self._clock = clock
        self._keys_tracked = keys_tracked
        self._last: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return False
        if len(self._last) >= self._keys_tracked:
            self._last = {k: t for k, t in self._last.items() if now - t < self.interval}
        self._last[key] = now
        return True
