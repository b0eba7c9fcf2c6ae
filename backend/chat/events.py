"""The one door out: every channel-layer group send goes through here.

Callers send an event only after the domain transaction has returned, so a
frame never announces something the store could still roll back. Each frame is
serialized once, here; the group message carries the text, and each process's
hub hands that same text to its local sockets (see hub.py).

The store is the source of truth and the layer only notifies: a failed send is
logged and swallowed, never turned into a failed request. A client that then
sees a `seq` gap fetches it with `history`.
"""

from __future__ import annotations

import logging

from channels.layers import get_channel_layer

from chat import deadlines, frames, metrics

log = logging.getLogger(__name__)


def is_outage(error: BaseException) -> bool:
    """Redis (or the network to it) away: expected now and then, worth one log
    line rather than a traceback. Anything else is a bug and keeps its traceback."""
    return isinstance(error, (OSError, TimeoutError)) or type(error).__module__.startswith("redis")


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    if is_outage(error):
        logger.warning("%s: %s: %s", what, type(error).__name__, error)
    else:
        logger.error("%s", what, exc_info=error)


def room_group(room: str) -> str:
    return f"room.{room}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


# Every socket that has asked for `rooms`, on every process: what enters everybody's list.
EVERYONE_GROUP = "everyone"

# Every process's hub, from its start: nothing is sent to it; how many are in it
# tells a stopping process whether another can take its sockets (chat/drain.py).
PROCESSES_GROUP = "processes"


async def message_created(message: dict) -> None:
    await _to_room(message["room"], frames.message(message))
    metrics.fanned_out()


async def message_changed(message: dict) -> None:
    """`update` to every socket that joined the room: an edit, a delete, a reaction."""
    await _to_room(message["room"], frames.update(message))


async def typing_changed(*, room: str, user: dict, active: bool) -> None:
    """To the room's sockets except the user's own (their other tabs included)."""
    await _to_room(room, frames.typing(room=room, user=user, active=active), exclude_user=user["id"])


async def presence_changed(
    *, room: str, joins: list[dict], leaves: list[dict], exclude_conn: str | None = None
) -> None:
    """The frame's text, and its users beside it: each socket passes on only what
    its roster (chat/roster.py) does not already say, mostly the text as it is."""
    await _to_room(
        room, frames.presence(room=room, joins=joins, leaves=leaves), exclude_conn=exclude_conn,
        kind="room.presence", joins=joins, leaves=leaves,
    )


async def session_closed(*, user_id: int, session_key: str) -> None:
    """Every socket opened with that session closes with 4401."""
    await _group_send(user_group(user_id), {"type": "user.close", "user": user_id, "session_key": session_key})


async def user_sessions_closed(
    *, user_id: int, keep_session_key: str | None = None, kept_key_now: str | None = None
) -> None:
    """Every socket of the user closes with 4401, except those opened with
    `keep_session_key` (a password change keeps its own session's). When that
    session's key changed (`kept_key_now`), its sockets go by the new key, so a
    later logout of the session still finds them."""
    await _group_send(
        user_group(user_id),
        {"type": "user.close", "user": user_id, "session_key": None, "keep_session_key": keep_session_key,
         "kept_key_now": kept_key_now},
    )


async def room_left_for_good(*, user_id: int, info: dict) -> None:
    """Every socket of the user leaves the room and is told with `room` (`member` false)."""
    await _group_send(
        user_group(user_id),
        {"type": "user.room_left", "user": user_id, "room": info["name"], "text": frames.dumps(frames.room_info(info))},
    )


async def room_lost(*, user_id: int, room: str) -> None:
    """The user lost a private room (removed, or left it for good): every socket
    of theirs, on every process, leaves it at once and is told `room_removed`;
    they get nothing more from it."""
    await _group_send(
        user_group(user_id),
        {"type": "user.room_left", "user": user_id, "room": room, "text": frames.dumps(frames.room_removed(room))},
    )


async def room_changed(*, infos: dict[int, dict], exclude_conn: str | None = None) -> None:
    """`room` with each user's own ROOMINFO to every socket of theirs (but
    `exclude_conn`, which was answered): the room entered their list, or its
    topic or members changed."""
    for user_id, info in infos.items():
        await _group_send(
            user_group(user_id),
            {"type": "user.frame", "user": user_id, "text": frames.dumps(frames.room_info(info)),
             "exclude_conn": exclude_conn},
        )


async def notify_changed(*, user_id: int, room: str, level: str, exclude_conn: str) -> None:
    """`notify` (without ref) to every other socket of the user: their level in
    the room changed; `exclude_conn` was answered."""
    await _group_send(
        user_group(user_id),
        {"type": "user.frame", "user": user_id, "text": frames.dumps(frames.notify(room=room, level=level)),
         "exclude_conn": exclude_conn},
    )


async def room_created(*, info: dict, creator_id: int) -> None:
    """A new public room enters everybody's list: `room` to every socket that
    follows the list (hub.follow_rooms) but the creator's (theirs got `joined`). `info` is what a non-member's `rooms` says."""
    await _group_send(
        EVERYONE_GROUP, {"type": "everyone.frame", "text": frames.dumps(frames.room_info(info)), "exclude_user": creator_id}
    )


async def _to_room(
    room: str, frame: dict, *, exclude_user: int | None = None, exclude_conn: str | None = None,
    kind: str = "room.frame", **extra,
) -> None:
    message = {
        "type": kind,
        "room": room,
        "frame_type": frame["type"],  # for the receiving hubs' counts (chat/metrics.py)
        "text": frames.dumps(frame),
        "exclude_user": exclude_user,
        "exclude_conn": exclude_conn,
        **extra,
    }
    await _group_send(room_group(room), message)


async def _group_send(group: str, message: dict) -> None:
    try:
        await deadlines.redis(get_channel_layer().group_send(group, message), f"group send to {group}")
    except Exception as error:
        log_failure(log, f"group send to {group} failed", error)
