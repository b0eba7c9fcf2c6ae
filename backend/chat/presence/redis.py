"""Presence shared by every process through Redis.

Per room, a ZSET `<prefix>room:<room>:expiry` (conn -> expiry time) and a HASH
`<prefix>room:<room>:entries` holding `c:<conn>` -> user id, `u:<id>` -> user
JSON and `n:<id>` -> how many of that user's conns the room holds. A SET
`<prefix>rooms` names the rooms with entries, for the sweeper. Every write is a
Lua script, so "first conn" and "last conn" are decided atomically however many
processes share the Redis, and a leave is returned by exactly one of them.

The servers' stores sweep at most once every `sweep_gap` seconds whichever
process asks (a `swept` key holds the time of the last sweep), so the sweep's
cost does not grow with the number of processes.

Times come from the Redis server's clock (TIME), so processes whose clocks
disagree still agree on expiry; tests may pass their own clock instead. The
scripts build per-room key names themselves, which a single Redis allows (not
Redis Cluster).
"""

import json
from collections.abc import Callable

from chat.redis import PrefixedScripts

from .base import PresenceEntry, User, sorted_users

_NOW = """
local function clock(arg)
  local now = tonumber(arg)
  if now then return now end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local prefix = ARGV[1]
local now = clock(ARGV[2])
local function zkey(room) return prefix .. 'room:' .. room .. ':expiry' end
local function hkey(room) return prefix .. 'room:' .. room .. ':entries' end

local function put(room, conn, uid, user_json, expires_at)
  local z, h = zkey(room), hkey(room)
  redis.call('ZADD', z, expires_at, conn)
  redis.call('SADD', prefix .. 'rooms', room)
  if redis.call('HSETNX', h, 'c:' .. conn, uid) == 0 then
    return 0
  end
  redis.call('HSET', h, 'u:' .. uid, user_json)
  if redis.call('HINCRBY', h, 'n:' .. uid, 1) == 1 then return 1 end
  return 0
end

-- Removes one conn; returns the user's JSON when it was their last in the room.
local function take(room, conn)
  local z, h = zkey(room), hkey(room)
  local uid = redis.call('HGET', h, 'c:' .. conn)
  redis.call('ZREM', z, conn)
  if not uid then return false end
  redis.call('HDEL', h, 'c:' .. conn)
  local user_json = false
  if redis.call('HINCRBY', h, 'n:' .. uid, -1) <= 0 then
    user_json = redis.call('HGET', h, 'u:' .. uid)
    redis.call('HDEL', h, 'n:' .. uid, 'u:' .. uid)
  end
  if redis.call('ZCARD', z) == 0 then
    redis.call('DEL', z, h)
    redis.call('SREM', prefix .. 'rooms', room)
  end
  return user_json
end

local function live_users(room)
  local h = hkey(room)
  local seen, users = {}, {}
  for _, conn in ipairs(redis.call('ZRANGEBYSCORE', zkey(room), '(' .. now, '+inf')) do
    local uid = redis.call('HGET', h, 'c:' .. conn)
    if uid and not seen[uid] then
      seen[uid] = true
      users[#users + 1] = uid
    end
  end
  return users
end

-- The live users as one JSON array: one reply to read, not one per user (a
-- join into a room of 500 read 500 replies in Python; json.loads reads one).
local function live_users_json(room)
  local h = hkey(room)
  local out = {}
  for _, uid in ipairs(live_users(room)) do
    local user_json = redis.call('HGET', h, 'u:' .. uid)
    if user_json then out[#out + 1] = user_json end
  end
  return '[' .. table.concat(out, ',') .. ']'
end
"""

# ARGV: prefix, now, ttl, room, conn, uid, user_json
_ADD = _NOW + "return put(ARGV[4], ARGV[5], ARGV[6], ARGV[7], now + tonumber(ARGV[3]))"

# ARGV: prefix, now, room, conn
_REMOVE = _NOW + "return take(ARGV[3], ARGV[4])"

# ARGV: prefix, now, ttl, room, conn, uid, user_json. Returns first (1 or 0) and the users' JSON array.
_ENTER = _NOW + """
local first = put(ARGV[4], ARGV[5], ARGV[6], ARGV[7], now + tonumber(ARGV[3]))
return {first, live_users_json(ARGV[4])}
"""

# ARGV: prefix, now, room. Returns the users' JSON array.
_USERS = _NOW + "return live_users_json(ARGV[3])"

# ARGV: prefix, now, room...
_COUNTS = (
    _NOW
    + """
local out = {}
for i = 3, #ARGV do out[#out + 1] = #live_users(ARGV[i]) end
return out
"""
)

# ARGV: prefix, now, ttl, then room, conn, uid, user_json for each entry.
# Returns the 1-based entry numbers whose put made their user present again.
_REFRESH = (
    _NOW
    + """
local expires_at = now + tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV, 4 do
  if put(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], expires_at) == 1 then
    out[#out + 1] = (i - 4) / 4 + 1
  end
end
return out
"""
)

# ARGV: prefix, now, gap. Returns room, user_json, room, user_json, ...
# With gap > 0 a sweep less than gap seconds after the last one (by any process)
# does nothing: every process sweeps every few seconds, and without this the
# work grew with processes x rooms (docs/deploy.md, "Measured here"). A clock
# that went back (before the last sweep) sweeps at once.
_EXPIRE = (
    _NOW
    + """
local gap = tonumber(ARGV[3])
if gap > 0 then
  local last = tonumber(redis.call('GET', prefix .. 'swept'))
  if last and now >= last and now < last + gap then return {} end
  redis.call('SET', prefix .. 'swept', tostring(now))
end
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', prefix .. 'rooms')) do
  local expired = redis.call('ZRANGEBYSCORE', zkey(room), '-inf', now)
  if #expired == 0 and redis.call('EXISTS', zkey(room)) == 0 then
    redis.call('SREM', prefix .. 'rooms', room)
  end
  for _, conn in ipairs(expired) do
    local user_json = take(room, conn)
    if user_json then
      out[#out + 1] = room
      out[#out + 1] = user_json
    end
  end
end
return out
"""
)


class RedisPresenceStore:
    def __init__(
        self,
        *,
        ttl: float,
        url: str | None = None,
        prefix: str = "chat:presence:",
        clock: Callable[[], float] | None = None,
        sweep_gap: float = 0.0,
    ):
        self.ttl = ttl
        self.sweep_gap = sweep_gap
        self._run = PrefixedScripts(url=url, prefix=prefix, clock=clock, what="presence").run

    async def add(self, *, room: str, conn: str, user: User) -> bool:
        first = await self._run(_ADD, repr(self.ttl), room, conn, user["id"], _dump(user))
        return bool(first)

    async def enter(self, *, room: str, conn: str, user: User) -> tuple[bool, list[User]]:
        first, users = await self._run(_ENTER, repr(self.ttl), room, conn, user["id"], _dump(user))
        return bool(first), sorted_users(json.loads(users))

    async def remove(self, *, room: str, conn: str) -> User | None:
        user_json = await self._run(_REMOVE, room, conn)
        return json.loads(user_json) if user_json else None

    async def users(self, *, room: str) -> list[User]:
        return sorted_users(json.loads(await self._run(_USERS, room)))

    async def counts(self, *, rooms: list[str]) -> dict[str, int]:
        if not rooms:
            return {}
        return dict(zip(rooms, await self._run(_COUNTS, *rooms)))

    async def refresh(self, *, entries: list[PresenceEntry]) -> list[PresenceEntry]:
        if not entries:
            return []
        args = []
        for room, conn, user in entries:
            args += [room, conn, user["id"], _dump(user)]
        numbers = await self._run(_REFRESH, repr(self.ttl), *args)
        return [entries[int(number) - 1] for number in numbers]

    async def expire(self) -> list[tuple[str, User]]:
        flat = await self._run(_EXPIRE, repr(self.sweep_gap))
        return [(flat[i], json.loads(flat[i + 1])) for i in range(0, len(flat), 2)]


def _dump(user: User) -> str:
    return json.dumps({"id": user["id"], "username": user["username"]}, separators=(",", ":"))
