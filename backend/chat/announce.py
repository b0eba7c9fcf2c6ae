"""Presence announcements: one frame per change while a room is quiet, one
merged frame per window while it is busy.

Every join is announced to everyone already in the room, so a room of n people
that fills at once (a server restart, every client reconnecting) costs about
n²/2 frames announced one by one: 125,000 for 500 people. Past a small burst,
this process holds a room's changes for a short window and sends them as one
frame, netted per user, to the same group through the same door (events.py).

A merged frame goes to the whole room, the joiners' own sockets included: each
socket passes on only what its roster (chat/roster.py) does not say yet, so a
joiner is not told of itself, and a user who came and went within the window
reaches only the sockets that were told of the coming (those that joined in
between, whose `joined` listed them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from chat import events, timing
from chat.ratelimit import MemoryRateLimiter

log = logging.getLogger(__name__)

Change = tuple[str, dict]  # ("join" | "leave", USER)


def net_changes(changes: Iterable[Change]) -> tuple[list[dict], list[dict]]:
    """(joins, leaves) a list of changes in order comes to, each user once: where
    each user ended, in the order first seen.

    join...leave is a leave, not nothing: for the room's earlier sockets it is
    where the user started, and their rosters drop it, but a socket that joined
    in between was told of the join in its `joined` and must hear of the leave.
    """
    last: dict[int, Change] = {}
    for kind, user in changes:
        last[user["id"]] = (kind, user)
    joins = [user for kind, user in last.values() if kind == "join"]
    leaves = [user for kind, user in last.values() if kind == "leave"]
    return joins, leaves


class PresenceAnnouncer:
    def __init__(
        self,
        *,
        send: Callable[..., Awaitable[None]] | None = None,
        burst: int = timing.PRESENCE_BURST,
        window: float = timing.PRESENCE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ):
        # events.presence_changed looked up at call time, so tests may patch it.
        self._send = send or (lambda **frame: events.presence_changed(**frame))
        self._window = window
        # Per room, the frames sent in the last window: past `burst`, changes are merged.
        self._frames = MemoryRateLimiter(
            limit=burst, window=window, clock=clock, keys_tracked=timing.PRESENCE_ROOMS_TRACKED
        )
        self._pending: dict[str, list[Change]] = {}  # room -> changes held for the merged frame
        self._flushes: set[asyncio.Task] = set()

    async def announce(
        self, *, room: str, joins: Sequence[dict] = (), leaves: Sequence[dict] = (), exclude_conn: str | None = None
    ) -> None:
        changes = [("join", user) for user in joins] + [("leave", user) for user in leaves]
        pending = self._pending.get(room)
        if pending is not None:
            pending.extend(changes)  # after what is already held: order is kept
            return
        if self._frames.allow(room):
            await self._send(room=room, joins=list(joins), leaves=list(leaves), exclude_conn=exclude_conn)
            return
        self._pending[room] = changes
        task = asyncio.create_task(self._flush_later(room), name=f"presence-flush-{room}")
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush_later(self, room: str) -> None:
        try:
            await asyncio.sleep(self._window)
        finally:
            # Even when cancelled (shutdown), the room must not stay held forever.
            changes = self._pending.pop(room, [])
        joins, leaves = net_changes(changes)
        if joins or leaves:
            self._frames.record(room)
            try:
                await self._send(room=room, joins=joins, leaves=leaves, exclude_conn=None)
            except Exception as error:
                events.log_failure(log, f"merged presence frame for {room} failed", error)

    async def close(self) -> None:
        for task in list(self._flushes):
            task.cancel()
        await asyncio.gather(*self._flushes, return_exceptions=True)
        self._pending.clear()  # a flush cancelled before it began never got to its finally
