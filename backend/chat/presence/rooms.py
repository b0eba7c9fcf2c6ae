"""Presence as one process keeps it: which of its sockets are counted in which
room, in the shared store (this package), and the announcements their comings
and goings cause (chat/announce.py).

The hub holds one (Hub.presence) and drives it: its heartbeat refreshes this
process's entries (`refresh`) and its sweep expires those of processes that
stopped refreshing theirs (`sweep`). Presence is a nicety beside the store:
with Redis away a socket is counted in this process only, and questions are
answered with what this process knows.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from chat import events, metrics
from chat.announce import PresenceAnnouncer
from chat.events import log_failure

from . import get_presence_store
from .base import PresenceEntry, PresenceStore, sorted_users

if TYPE_CHECKING:
    from chat.hub import Subscriber

log = logging.getLogger(__name__)


class RoomPresence:
    def __init__(self, store: PresenceStore | None = None):
        self.store = store if store is not None else get_presence_store()
        # The process is stopping (chat/drain.py): its sockets are closed for a
        # restart, not by people leaving.
        self.stopping = False
        self._present: dict[str, set[Subscriber]] = {}  # room -> sockets counted in presence
        self.announcer = PresenceAnnouncer()

    async def close(self) -> None:
        await self.announcer.close()

    # ---- this process's sockets ------------------------------------------------

    async def enter(self, room: str, sub: Subscriber) -> list[dict]:
        """Counts the socket in the room's presence and returns who is present, its
        own user included (the snapshot for `joined`, read in the same step as
        the add); the user's first socket is announced.

        With Redis away the socket is counted here only: the next heartbeat that
        reaches Redis puts it in and announces the join (see refresh), and the
        snapshot is this process's."""
        try:
            first, present = await self.store.enter(room=room, conn=sub.conn, user=sub.user)
        except Exception as error:
            if not events.is_outage(error):
                raise
            log_failure(log, f"presence of {sub.conn} in {room} left to the heartbeat", error)
            self._present.setdefault(room, set()).add(sub)
            return sorted_users(self._local_users(room).values())
        # Marked only after the add: a heartbeat in between would otherwise
        # create the entry first and the add would not see the user as new.
        self._present.setdefault(room, set()).add(sub)
        metrics.JOINS.inc()
        if first:
            await self.announcer.announce(room=room, joins=[sub.user], exclude_conn=sub.conn)
        return present

    async def exit(self, room: str, sub: Subscriber) -> None:
        """Uncounts the socket; the user's last socket leaving is announced."""
        present = self._present.get(room)
        if present is None or sub not in present:
            return
        # Unmarked before the remove, so no later heartbeat re-creates the entry.
        present.discard(sub)
        if not present:
            del self._present[room]
        if self.stopping:
            # A restart is no departure: the entry stays, unrefreshed, until the
            # presence TTL. A client back on another process within it is never
            # seen to leave (its new entry keeps the user present, so the old
            # one expires unannounced); one that does not come back leaves when
            # a sweep finds the entry expired. In process memory the store goes
            # with the process, and every socket with it.
            return
        user = await self.store.remove(room=room, conn=sub.conn)
        if user is not None:
            await self.announcer.announce(room=room, leaves=[user], exclude_conn=sub.conn)

    def entries(self) -> list[PresenceEntry]:
        return [(room, sub.conn, sub.user) for room, subs in self._present.items() for sub in subs]

    def entry_count(self) -> int:
        return sum(len(subs) for subs in self._present.values())

    # ---- who is present --------------------------------------------------------

    async def online_counts(self, rooms: list[str]) -> dict[str, int]:
        """Distinct users present per room; with Redis away, this process's."""
        return await self._shared_or_local(
            self.store.counts(rooms=rooms), "presence counts",
            lambda: {room: len(self._local_users(room)) for room in rooms},
        )

    async def online_besides(self, room: str, user_id: int) -> int:
        """Distinct users present in the room but `user_id` (on the way out on every socket)."""
        users = await self._shared_or_local(
            self.store.users(room=room), "presence users", lambda: list(self._local_users(room).values())
        )
        return sum(1 for user in users if user["id"] != user_id)

    async def present_user_ids(self, room: str) -> set[int]:
        """The users with a socket in the room, on any process (Web Push skips
        them); with Redis away, this process's."""
        users = await self._shared_or_local(
            self.store.users(room=room), "presence users", lambda: list(self._local_users(room).values())
        )
        return {user["id"] for user in users}

    def _local_users(self, room: str) -> dict[int, dict]:
        return {sub.user["id"]: sub.user for sub in self._present.get(room, ())}

    @staticmethod
    async def _shared_or_local(shared: Awaitable[Any], what: str, local: Callable[[], Any]) -> Any:
        # Presence is a nicety beside the store: a Redis outage answers with what
        # this process knows rather than failing the request.
        try:
            return await shared
        except Exception as error:
            if not events.is_outage(error):
                raise
            log_failure(log, f"{what} unavailable; answering with this process's", error)
            return local()

    # ---- the hub's timers ------------------------------------------------------

    async def refresh(self) -> None:
        """The heartbeat's part: keeps this process's entries alive in the store."""
        entries = self.entries()
        rejoined = await self.store.refresh(entries=entries)
        # A socket that left while the refresh was on its way may have been put
        # back by it after its own remove: take that entry out again. Put back
        # (in `rejoined`), its leave already went out with that remove; else this
        # remove may have overtaken the socket's own, and then it says the leave.
        current = {(room, sub.conn) for room, subs in self._present.items() for sub in subs}
        for entry in entries:
            room, conn, _user = entry
            if (room, conn) not in current:
                user = await self.store.remove(room=room, conn=conn)
                if user is not None and entry not in rejoined:
                    await self.announcer.announce(room=room, leaves=[user])
        # Users whose entries had expired and been swept, their leave announced,
        # while this process could not refresh them (Redis unreachable): they
        # are present again, so say so.
        for room, conn, user in rejoined:
            if (room, conn) in current:
                await self.announcer.announce(room=room, joins=[user])

    async def sweep(self) -> None:
        """Expires presence whose process stopped refreshing it and announces the leaves."""
        try:
            leaves = await self.store.expire()
        except Exception as error:
            log_failure(log, "presence expiry failed", error)
            return
        for room, user in leaves:
            await self.announcer.announce(room=room, leaves=[user])
