"""Reads of the chat domain, returning wire-shaped dicts.

Every function returns plain data (never model instances), so the async
consumer that calls them through `database_sync_to_async` cannot trigger a lazy
query. Each one is a constant number of queries, whatever the room's size.

Who may read a room is decided in one place, `rooms_readable_by` (and its raw
SQL twin `READABLE_SQL` for chat/store.py's statements): every read of a room,
its messages or its members goes through it.
"""

from datetime import datetime, timezone
from typing import Any, TypedDict

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
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
    """ROOMINFO without `online` (the hub's): a `rooms` entry."""

    name: str
    kind: str
    topic: str
    owner: UserDict | None
    members: list[UserDict] | None  # private and dm rooms; None for public ones
    last_seq: int
    member: bool
    unread: int
    mentions: int  # 0 until messages can mention users (issue 10)


# ---- access: who may read which room ------------------------------------------


def rooms_readable_by(user: Any) -> QuerySet[Room]:
    """The rooms this user may see, join and read: every public room, the private
    and dm rooms they are a member of, and, for staff, every private room (staff
    count as owner of every room; dm rooms stay their members' only).

    The one access rule: `rooms`, `join`, `history`, `send`, `read`, the room's
    live frames and presence (through the join), and later search and
    attachments all ask it. chat/store.py's statements use READABLE_SQL, the same
    rule in SQL."""
    visible = Q(kind=Room.Kind.PUBLIC) | Exists(Membership.objects.filter(user_id=user.pk, room_id=OuterRef("pk")))
    if user.is_staff:
        visible |= Q(kind=Room.Kind.PRIVATE)
    return Room.objects.filter(visible)


def room_readable(*, user: Any, name: str) -> bool:
    return rooms_readable_by(user).filter(name=name).exists()


# rooms_readable_by in SQL, for a room row `r`, with %(user)s and %(staff)s.
READABLE_SQL = f"""(
    r.kind = 'public' OR (%(staff)s AND r.kind = 'private')
    OR EXISTS (SELECT 1 FROM {Membership._meta.db_table} mb WHERE mb.user_id = %(user)s AND mb.room_id = r.id)
)"""


def room_access(*, user: Any, name: str) -> tuple[str, bool, bool] | None:
    """(kind, readable, owns) of the named room for this user, None when there is
    no such room; `owns`: the room's owner, or staff (owner of every room).
    For the consumer's checks before a change; never shown as such to a client,
    who hears the same `forbidden` for a room it may not see and one that does
    not exist."""
    row = (
        Room.objects.filter(name=name)
        .annotate(readable=Exists(rooms_readable_by(user).filter(pk=OuterRef("pk"))))
        .values_list("kind", "readable", "owner_id")
        .first()
    )
    if row is None:
        return None
    kind, readable, owner_id = row
    return kind, readable, readable and (user.is_staff or owner_id == user.pk)


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


def messages_before(*, room: str, before: int, limit: int = 50, user: Any = None) -> tuple[list[MessageDict], bool]:
    """The newest `limit` messages with seq < before, ascending; has_more when
    older ones exist. Given a user, only if they may read the room (else none)."""
    messages = _messages() if user is None else _messages().filter(room__in=rooms_readable_by(user))
    rows = list(messages.filter(room__name=room, seq__lt=before).order_by("-seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=True)


# ---- rooms ------------------------------------------------------------------


def room_list(*, user: Any, name: str | None = None) -> list[RoomDict]:
    """Every room this user may read, by name (or the one named, if readable),
    with its kind, topic, owner, members and this user's membership and unread
    count: one query, and a second for the members when a private or dm room is
    among them.

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
    readable = rooms_readable_by(user)
    rooms = (
        (readable.filter(name=name) if name is not None else readable)
        .annotate(
            member=Exists(membership),
            read_seq=Subquery(membership.values("last_read_seq")[:1]),
        )
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
        .order_by("name")
        .values("id", "name", "kind", "topic", "owner_id", "owner__username", "last_seq", "member", "unread")
    )
    rows = list(rooms)
    members = _members_of([row["id"] for row in rows if row["kind"] != Room.Kind.PUBLIC])
    return [
        {
            "name": row["name"], "kind": row["kind"], "topic": row["topic"],
            "owner": None if row["owner_id"] is None else {"id": row["owner_id"], "username": row["owner__username"]},
            "members": None if row["kind"] == Room.Kind.PUBLIC else members.get(row["id"], []),
            "last_seq": row["last_seq"], "member": row["member"], "unread": row["unread"], "mentions": 0,
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
