"""What a process's sockets may have missed while the channel layer was away.

The store keeps every message; the channel layer only notifies, and drops what
is published while Redis is down or while a process's hub has not yet joined
its groups again after Redis restarted. A client sees such a gap at its next
live message, or when its room list (asked for about every minute) names a
newer `last_seq`. To spare a quiet room that wait, the hub, once its groups
are back, hands its sockets the messages stored since the outage began
(`Hub(missed=...)`, this module's `missed_since` by default). Some of them may
have arrived live already: a client keeps one copy of each `seq`.

A room a user lost meanwhile (removed from it, or left it for good on another
socket) was announced through the same layer, so that too may have been
dropped: the hub asks again who may read each room (selectors.readers_among,
the one access rule) and takes the others' sockets out of it, as the lost
frame would have.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

from chat import frames, selectors
from chat.deadlines import db


class Missed(NamedTuple):
    texts: list[str]  # the room's `message` frames stored since, serialized, oldest first
    readers: set[int]  # which of the users asked about may read the room


async def missed_since(rooms: dict[str, set[int]], since: float) -> dict[str, Missed]:
    """For each room (name -> ids of the users with a socket in it here), what
    was stored at or after `since` (a Unix time), at most a join's page, and
    which of those users may read it now."""
    return await db(_missed_since)(rooms, datetime.fromtimestamp(since, timezone.utc))


def _missed_since(rooms: dict[str, set[int]], since: datetime) -> dict[str, Missed]:
    stored = selectors.messages_stored_since(rooms=list(rooms), since=since)
    return {
        room: Missed(
            texts=[frames.dumps(frames.message(message)) for message in stored.get(room, [])],
            readers=selectors.readers_among(room=room, user_ids=sorted(users)),
        )
        for room, users in rooms.items()
    }
