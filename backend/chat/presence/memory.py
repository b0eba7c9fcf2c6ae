"""In-process presence: one dict per room, for a single server process.

No method awaits anything, so each runs to completion on its event loop and the
first/last decisions need no lock.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from .base import PresenceEntry, User, sorted_users


@dataclass
class _Entry:
    user: User
    expires_at: float


class MemoryPresenceStore:
    def __init__(self, *, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._rooms: dict[str, dict[str, _Entry]] = {}

    async def add(self, *, room: str, conn: str, user: User) -> bool:
        return self._put(room, conn, user, self._clock() + self.ttl)

    async def enter(self, *, room: str, conn: str, user: User) -> tuple[bool, list[User]]:
        first = self._put(room, conn, user, self._clock() + self.ttl)
        return first, await self.users(room=room)

    async def remove(self, *, room: str, conn: str) -> User | None:
        return self._take(room, conn)

    async def users(self, *, room: str) -> list[User]:
        return sorted_users(self._live_users(room, self._clock()).values())

    async def counts(self, *, rooms: list[str]) -> dict[str, int]:
        now = self._clock()
        return {room: len(self._live_users(room, now)) for room in rooms}

    async def refresh(self, *, entries: list[PresenceEntry]) -> list[PresenceEntry]:
        expires_at = self._clock() + self.ttl
        return [(room, conn, user) for room, conn, user in entries if self._put(room, conn, user, expires_at)]

    async def expire(self) -> list[tuple[str, User]]:
        now = self._clock()
        leaves = []
        for room, conns in list(self._rooms.items()):
            for conn in [conn for conn, entry in conns.items() if entry.expires_at <= now]:
                user = self._take(room, conn)
                if user is not None:
                    leaves.append((room, user))
        return leaves

    # ---- internals ------------------------------------------------------

    def _put(self, room: str, conn: str, user: User, expires_at: float) -> bool:
        conns = self._rooms.setdefault(room, {})
        entry = conns.get(conn)
        if entry is not None:
            entry.expires_at = expires_at
            return False
        first = not any(other.user["id"] == user["id"] for other in conns.values())
        conns[conn] = _Entry(user=dict(user), expires_at=expires_at)
        return first

    def _take(self, room: str, conn: str) -> User | None:
        conns = self._rooms.get(room)
        if not conns or conn not in conns:
            return None
        user = conns.pop(conn).user
        if not conns:
            del self._rooms[room]
        if any(other.user["id"] == user["id"] for other in conns.values()):
            return None
        return user

    def _live_users(self, room: str, now: float) -> dict[int, User]:
        conns = self._rooms.get(room, {})
        return {entry.user["id"]: entry.user for entry in conns.values() if entry.expires_at > now}
