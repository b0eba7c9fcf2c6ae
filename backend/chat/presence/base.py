"""The presence store interface every backend implements.

An entry is (room, conn, user) with an expiry. A user counts once in a room
however many connections they have there. An entry stays in the store until
`remove` or `expire` takes it out, so every True from `add` is matched by
exactly one leave, from `remove` or from `expire`, never both.
"""

from typing import Protocol, TypedDict


class User(TypedDict):
    id: int
    username: str


PresenceEntry = tuple[str, str, User]  # (room, conn, user)


class PresenceStore(Protocol):
    ttl: float

    async def add(self, *, room: str, conn: str, user: User) -> bool:
        """True when this is the user's first live connection in the room."""

    async def enter(self, *, room: str, conn: str, user: User) -> tuple[bool, list[User]]:
        """`add`, and the room's users after it (`users`) in the same step: a
        joining socket's snapshot, taken where its own entry was made."""

    async def remove(self, *, room: str, conn: str) -> User | None:
        """The user, when that was their last live connection in the room."""

    async def users(self, *, room: str) -> list[User]:
        """Distinct users with an unexpired connection in the room, by username."""

    async def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """Distinct users with an unexpired connection, per room asked for."""

    async def refresh(self, *, entries: list[PresenceEntry]) -> list[PresenceEntry]:
        """Heartbeat: (room, conn, user) of this process's live connections;
        re-creates entries that vanished (a Redis restart, or expired and swept
        while this process could not refresh them). Returns the re-created
        entries that made their user present in the room again."""

    async def expire(self) -> list[tuple[str, User]]:
        """Removes entries past their TTL; returns (room, user) for each user left
        with no connection. Across processes, each leave is returned once."""


def sorted_users(users) -> list[User]:
    return sorted(users, key=lambda user: (user["username"], user["id"]))
