"""Reads of rooms, as wire ROOMs: a user's list, one room, its members."""

from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from chat.models import Mention, Membership, Message, Room

from .access import rooms_readable_by
from .wire import RoomDict, UserDict


def room_list(*, user: Any, name: str | None = None) -> list[RoomDict]:
    """Every room this user may read, by name (or the one named, if readable),
    with its kind, topic, owner, members and this user's membership and unread
    count: one query, and a second for the members when a private or dm room is
    among them.

    Unread counts the messages above the user's read marker that others wrote,
    mentions those above it that mention the user; for a non-member the
    marker is NULL, so nothing matches and both are 0.
    """
    membership = Membership.objects.filter(user_id=user.pk, room_id=OuterRef("pk"))
    unread = (
        Message.objects.filter(room_id=OuterRef("pk"), seq__gt=OuterRef("read_seq"))
        .exclude(author_id=user.pk)
        .order_by()
        .values("room_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    # A deleted message's mentions are gone with it.
    mentioned = (
        Mention.objects.filter(user_id=user.pk, room_id=OuterRef("pk"), seq__gt=OuterRef("read_seq"))
        .order_by()
        .values("room_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    readable = rooms_readable_by(user)
    rooms = (
        (readable.filter(name=name) if name is not None else readable)
        .annotate(
            member=Exists(membership),
            read_seq=Subquery(membership.values("last_read_seq")[:1]),
        )
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
        .annotate(mentions=Coalesce(Subquery(mentioned, output_field=IntegerField()), Value(0)))
        .order_by("name")
        .values(
            "id", "name", "kind", "topic", "owner_id", "owner__username", "last_seq", "last_rev", "member", "unread",
            "mentions",
        )
    )
    rows = list(rooms)
    members = _members_of([row["id"] for row in rows if row["kind"] != Room.Kind.PUBLIC])
    return [
        {
            "name": row["name"], "kind": row["kind"], "topic": row["topic"],
            "owner": None if row["owner_id"] is None else {"id": row["owner_id"], "username": row["owner__username"]},
            "members": None if row["kind"] == Room.Kind.PUBLIC else members.get(row["id"], []),
            "last_seq": row["last_seq"], "member": row["member"], "unread": row["unread"],
            "mentions": row["mentions"], "rev": row["last_rev"],
        }
        for row in rows
    ]


def _members_of(room_ids: list[int]) -> dict[int, list[UserDict]]:
    """Each room's members by username, in one query (none when no room is asked)."""
    if not room_ids:
        return {}
    members: dict[int, list[UserDict]] = {}
    rows = (
        Membership.objects.filter(room_id__in=room_ids)
        .order_by("user__username")
        .values_list("room_id", "user_id", "user__username")
    )
    for room_id, user_id, username in rows:
        members.setdefault(room_id, []).append({"id": user_id, "username": username})
    return members


def room_member_ids(*, name: str) -> list[int]:
    """The ids of the room's members (whoever is told when its topic or members change)."""
    return list(Membership.objects.filter(room__name=name).order_by("user_id").values_list("user_id", flat=True))


def room_infos_for_members(*, name: str, also: list[int] = ()) -> dict[int, RoomDict]:
    """ROOMINFO (without `online`) of the room as each member sees it, and each
    user of `also`: what the unasked `room` frame tells them after a change."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(Q(pk__in=room_member_ids(name=name)) | Q(pk__in=list(also)))
    infos = {}
    for user in users.only("id", "username", "is_staff"):
        info = room_info(user=user, name=name)
        if info is not None:
            infos[user.pk] = info
    return infos


def room_info(*, user: Any, name: str) -> RoomDict | None:
    """The `rooms` entry of one room for this user (without `online`), or None
    when there is no such room or the user may not read it."""
    rooms = room_list(user=user, name=name)
    return rooms[0] if rooms else None
