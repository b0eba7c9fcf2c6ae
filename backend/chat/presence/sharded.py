"""Presence spread over several Redis servers, a room's entries all on one of them.

Every presence call but the sweep names one room, and a room's entries must
stay together (its Lua scripts decide "first conn" and "last conn" atomically),
so the room picks the server: a jump consistent hash of its name over the list
REDIS_URLS gives. Adding a server to the end of the list moves only the rooms
that now belong to it (1/n of them), and those are put back on their new
server by the next heartbeat (within the presence TTL / 3).

Calls that span rooms (counts, a heartbeat's refresh, the sweep) go to every
server that holds one of those rooms, at once. A heartbeat or sweep that
reaches some servers and not others keeps what the reachable ones answered
(re-created entries to announce, leaves taken out of Redis, which must be
announced or they are lost) and logs the others; it fails only when none
answered, so the hub's retry and fallback work as with one server.

Every process must hold the same list in the same order, as for channels-redis'
own `hosts`: change it with a full restart, not a rolling one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence

from chat.events import log_failure

from .base import PresenceEntry, PresenceStore, User, sorted_users

log = logging.getLogger(__name__)


def jump_hash(key: str, buckets: int) -> int:
    """Lamping and Veach's jump consistent hash (arXiv:1406.2294) of `key`:
    stable across processes and Python runs (no `hash()`), and growing the
    bucket count from n to n+1 moves a key only if it lands in the new bucket."""
    state = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    bucket, jump = -1, 0
    while jump < buckets:
        bucket = jump
        state = (state * 2862933555777941757 + 1) % (1 << 64)
        jump = int((bucket + 1) * ((1 << 31) / ((state >> 33) + 1)))
    return bucket


class ShardedPresenceStore:
    def __init__(self, shards: Sequence[PresenceStore]):
        if not shards:
            raise ValueError("a sharded presence store needs at least one shard")
        self.shards = list(shards)
        self.ttl = self.shards[0].ttl

    def shard(self, room: str) -> PresenceStore:
        return self.shards[jump_hash(room, len(self.shards))]

    async def add(self, *, room: str, conn: str, user: User) -> bool:
        return await self.shard(room).add(room=room, conn=conn, user=user)

    async def enter(self, *, room: str, conn: str, user: User) -> tuple[bool, list[User]]:
        return await self.shard(room).enter(room=room, conn=conn, user=user)

    async def remove(self, *, room: str, conn: str) -> User | None:
        return await self.shard(room).remove(room=room, conn=conn)

    async def users(self, *, room: str) -> list[User]:
        return sorted_users(await self.shard(room).users(room=room))

    async def counts(self, *, rooms: list[str]) -> dict[str, int]:
        by_shard: dict[int, list[str]] = {}
        for room in rooms:
            by_shard.setdefault(jump_hash(room, len(self.shards)), []).append(room)
        # All or nothing: a partial answer would show rooms as empty; the hub
        # answers with this process's own counts when this fails.
        answers = await asyncio.gather(*(self.shards[i].counts(rooms=part) for i, part in by_shard.items()))
        return {room: count for answer in answers for room, count in answer.items()}

    async def refresh(self, *, entries: list[PresenceEntry]) -> list[PresenceEntry]:
        by_shard: dict[int, list[PresenceEntry]] = {}
        for entry in entries:
            by_shard.setdefault(jump_hash(entry[0], len(self.shards)), []).append(entry)
        return await self._each(
            "presence refresh", [self.shards[i].refresh(entries=part) for i, part in by_shard.items()]
        )

    async def expire(self) -> list[tuple[str, User]]:
        return await self._each("presence expiry", [shard.expire() for shard in self.shards])

    @staticmethod
    async def _each(what: str, calls: list) -> list:
        """The concatenated answers of the servers that answered; raises only if none did."""
        answers = await asyncio.gather(*calls, return_exceptions=True)
        errors = [answer for answer in answers if isinstance(answer, BaseException)]
        if errors and len(errors) == len(answers):
            raise errors[0]
        for error in errors:
            log_failure(log, f"{what} on one Redis shard failed", error)
        return [item for answer in answers if not isinstance(answer, BaseException) for item in answer]
