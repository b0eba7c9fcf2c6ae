"""Rooms: joining (and making a public room on the way), creating, leaving for
good, and the topic; the `dm-` names that only `dm` makes."""

from typing import Any

from django.db import IntegrityError, transaction

from chat.models import DM_PREFIX, Membership, Room
from chat.notifications.services import levels_forget
from chat.selectors import room_access, rooms_readable_by

from .errors import RoomExists, RoomForbidden, RoomNotFound


def refuse_dm_name(name: str) -> None:
    """RoomForbidden for a `dm-` name: those rooms are made by `dm` alone."""
    if name.startswith(DM_PREFIX):
        raise RoomForbidden(name, "dm rooms are made by `dm`")


def room_join(*, user: Any, name: str, create: bool = True) -> None:
    """Makes the user a member of the room (read marker 0), creating a public
    room if needed and allowed; a missing room that may not be created is
    RoomNotFound, one the user may not read (rooms_readable_by) RoomForbidden,
    and so is a missing `dm-` name (those are made by `dm_create` only).

    Two statements when the room exists and is readable, whether or not the
    user is a member already: every join of every socket comes here. The
    membership is one INSERT that does nothing on the unique (user, room)
    constraint, so an existing marker stays and two processes joining at once
    both succeed; a new room is `room_make`'s, as for a socket's join, and is
    then joined as any existing room (one made private meanwhile: forbidden).
    In a private or dm room the user is a member already (or staff, who then
    become one). The caller has already checked the name against the pattern.
    """
    room_id = rooms_readable_by(user).filter(name=name).values_list("pk", flat=True).first()
    if room_id is None:
        existing = Room.objects.filter(name=name).values_list("pk", flat=True).first()
        if existing is not None:
            # Made since the read above (another socket joined the new name at
            # the same moment: bench/scale.py's 10,000 sockets met it), or not
            # readable: asked again, by id.
            if not rooms_readable_by(user).filter(pk=existing).exists():
                raise RoomForbidden(name)
            room_id = existing
        elif not create:
            raise RoomNotFound(name)
        else:
            room_make(name=name)
            return room_join(user=user, name=name, create=False)
    Membership.objects.bulk_create([Membership(user_id=user.pk, room_id=room_id)], ignore_conflicts=True)


def room_make(*, name: str) -> bool:
    """A join's new public room, unless a room of that name exists (whatever its
    kind): whether this call made it. RoomForbidden for a `dm-` name."""
    refuse_dm_name(name)
    return Room.objects.get_or_create(name=name)[1]


# A join's new public room as one statement (PostgreSQL; chat/store.py runs it
# on the event loop before the join's own statement): made unless a room of
# that name exists, whatever its kind, which the join's statement then checks
# as for any room. The same row as room_make's get_or_create. Its row (the new
# room's id) says it was made; none, that it was there already.
ROOM_MAKE_SQL = f"""
INSERT INTO {Room._meta.db_table} (name, kind, topic, owner_id, last_seq, last_rev, created_at)
VALUES (%(name)s, '{Room.Kind.PUBLIC.value}', '', NULL, 0, 0, %(now)s)
ON CONFLICT (name) DO NOTHING
RETURNING id
"""


def room_create(*, user: Any, name: str, kind: str, topic: str = "") -> None:
    """A new public or private room owned by the user, who is its first member;
    RoomExists when the name is taken (by any room, readable or not), and
    RoomForbidden for a `dm-` name."""
    refuse_dm_name(name)
    if kind not in (Room.Kind.PUBLIC, Room.Kind.PRIVATE):
        raise ValueError(f"create makes public or private rooms, not {kind!r}")
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, kind=kind, topic=topic, owner_id=user.pk)
            Membership.objects.create(user_id=user.pk, room_id=room.pk)
    except IntegrityError:
        raise RoomExists(name) from None


def readable_access(*, user: Any, name: str) -> tuple[str, bool]:
    """(kind, owns) of a room the user may read; RoomForbidden otherwise."""
    access = room_access(user=user, name=name)
    if access is None or not access[1]:
        raise RoomForbidden(name)
    kind, _, owns = access
    return kind, owns


def topic_set(*, user: Any, room: str, topic: str) -> None:
    """Any member of a public or dm room, the owner of a private one (or staff
    anywhere they may read) sets the topic; RoomForbidden otherwise."""
    kind, owns = readable_access(user=user, name=room)
    is_member = Membership.objects.filter(user_id=user.pk, room__name=room).exists()
    if not (owns or (kind != Room.Kind.PRIVATE and is_member)):
        raise RoomForbidden(room, "not allowed to change the topic")
    Room.objects.filter(name=room).update(topic=topic)


def room_forget(*, user: Any, room: str) -> bool:
    """The user is no longer a member (a `leave` with `forget`): the membership,
    its read marker and their notification level there go, so a public room
    lists as `member` false, `unread` 0, and a private one is gone from their
    list. An owner who leaves their
    room leaves it without owner (staff still own it). True when the user was a
    member; a no-op for unknown rooms and non-members. Not for dm rooms (the
    caller refuses those)."""
    with transaction.atomic():
        removed, _ = Membership.objects.filter(user_id=user.pk, room__name=room).delete()
        levels_forget(user_id=user.pk, room=room)
        Room.objects.filter(name=room, owner_id=user.pk).update(owner=None)
    return removed > 0
