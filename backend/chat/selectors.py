"""Reads of the chat domain, returning wire-shaped dicts.

Every function returns plain data (never model instances), so the async
consumer that calls them through `database_sync_to_async` cannot trigger a lazy
query. Each one is a constant number of queries, whatever the room's size.
"""

from datetime import datetime, timezone
from typing import Any, TypedDict

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.services import user_wire
from chat.models import Membership, Message, Room


class UserDict(TypedDict):
    id: int
    username: str


class MessageDict(TypedDict):
    id: int
    room: str
    seq: int
    author: UserDict
    body: str
    created_at: str
    client_id: str


class RoomDict(TypedDict):
    name: str
    last_seq: int
    member: bool
    unread: int


# ---- serialization ----------------------------------------------------------


def timestamp_to_wire(moment: datetime) -> str:
    """UTC with microseconds and a Z, e.g. 2026-11-21T10:00:00.000000Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message_wire(
    *, id: int, room: str, seq: int, author: UserDict, body: str, created_at: datetime, client_id: str
) -> MessageDict:
    """The wire MESSAGE from its parts (a model, or a raw statement's row)."""
    return {
        "id": id,
        "room": room,
        "seq": seq,
        "author": author,
        "body": body,
        "created_at": timestamp_to_wire(created_at),
        "client_id": client_id,
    }


def message_to_dict(message: Message) -> MessageDict:
    """The wire MESSAGE; expects `room` and `author` already loaded (select_related)."""
    return message_wire(
        id=message.pk, room=message.room.name, seq=message.seq, author=user_wire(message.author),
        body=message.body, created_at=message.created_at, client_id=message.client_id,
    )


def _messages() -> QuerySet[Message]:
    # One query per call: the room and author come in the same SELECT, and only
    # the columns the wire shape needs (not the author's password hash).
    return Message.objects.select_related("room", "author").only(
        "id", "seq", "body", "client_id", "created_at", "room__name", "author__username"
    )


def _page(rows: list[Message], limit: int, *, newest_first: bool) -> tuple[list[MessageDict], bool]:
    """Rows were fetched with one extra to learn whether more exist beyond `limit`."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    if newest_first:
        rows.reverse()
    return [message_to_dict(row) for row in rows], has_more


# ---- messages ---------------------------------------------------------------


def message_by_client_id(*, user: Any, client_id: str) -> MessageDict | None:
    message = _messages().filter(author_id=user.pk, client_id=client_id).first()
    return None if message is None else message_to_dict(message)


# A join's page: the newest messages, or those after `since`.
LATEST_PAGE = 50
SINCE_PAGE = 500


def messages_latest(*, room: str, limit: int = LATEST_PAGE) -> tuple[list[MessageDict], bool]:
    """The newest `limit` messages, ascending; has_more when older ones exist."""
    rows = list(_messages().filter(room__name=room).order_by("-seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=True)


def messages_since(*, room: str, since: int, limit: int = SINCE_PAGE) -> tuple[list[MessageDict], bool]:
    """The oldest `limit` messages with seq > since, ascending; has_more when the
    page was cut short, so the client asks again from its last seq."""
    rows = list(_messages().filter(room__name=room, seq__gt=since).order_by("seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=False)


def messages_before(*, room: str, before: int, limit: int = 50) -> tuple[list[MessageDict], bool]:
    """The newest `limit` messages with seq < before, ascending; has_more when
    older ones exist."""
    rows = list(_messages().filter(room__name=room, seq__lt=before).order_by("-seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=True)


# ---- rooms ------------------------------------------------------------------


def room_list(*, user: Any, name: str | None = None) -> list[RoomDict]:
    """Every room by name (or the one named), with this user's membership and
    unread count, in one query.

    Unread counts the messages above the user's read marker that others wrote;
    for a non-member the marker is NULL, so nothing matches and it is 0.
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
    rooms = (
        (Room.objects.filter(name=name) if name is not None else Room.objects.all())
        .annotate(
            member=Exists(membership),
            read_seq=Subquery(membership.values("last_read_seq")[:1]),
        )
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
        .order_by("name")
        .values("name", "last_seq", "member", "unread")
    )
    return [
        {"name": row["name"], "last_seq": row["last_seq"], "member": row["member"], "unread": row["unread"]}
        for row in rooms
    ]


def room_info(*, user: Any, name: str) -> RoomDict | None:
    """The `rooms` entry of one room for this user (without `online`), or None."""
    rooms = room_list(user=user, name=name)
    return rooms[0] if rooms else None
