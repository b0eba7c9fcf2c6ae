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

from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.services import user_wire
from chat.models import Mention, Membership, Message, Reaction, Room, Upload
from chat.uploads.wire import AttachmentDict, attachments_wire


class UserDict(TypedDict):
    id: int
    username: str


class ReplyDict(TypedDict):
    seq: int
    author: UserDict
    excerpt: str


class ReactionDict(TypedDict):
    emoji: str
    users: list[UserDict]


class MessageDict(TypedDict):
    id: int
    room: str
    seq: int
    author: UserDict
    body: str
    created_at: str
    client_id: str
    rev: int
    reply_to: ReplyDict | None
    mentions: list[int]
    edited_at: str | None
    deleted: bool
    reactions: list[ReactionDict]
    attachments: list[AttachmentDict]


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
    mentions: int  # unread messages (above the read marker) that mention this user
    rev: int


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


def readable_sql(*, user: str = "%(user)s", staff: str = "%(staff)s", room: str = "r") -> str:
    """rooms_readable_by in SQL, for a room row `room`, with the user's id and
    is_staff as SQL expressions (parameters, or another row's columns)."""
    return f"""(
    {room}.kind = 'public' OR ({staff} AND {room}.kind = 'private')
    OR EXISTS (SELECT 1 FROM {Membership._meta.db_table} mb WHERE mb.user_id = {user} AND mb.room_id = {room}.id)
)"""


# rooms_readable_by in SQL, for a room row `r`, with %(user)s and %(staff)s.
READABLE_SQL = readable_sql()


def readers_among(*, room: str, user_ids: list[int]) -> set[int]:
    """Which of `user_ids` may read `room`: rooms_readable_by's rule (readable_sql)
    for many users in one query (chat/catchup.py re-checks a room's sockets)."""
    if not user_ids:
        return set()
    from django.contrib.auth import get_user_model

    users = get_user_model()._meta.db_table
    listed = ", ".join(["%s"] * len(user_ids))
    readable = readable_sql(user="u.id", staff="u.is_staff")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT u.id FROM {users} u JOIN {Room._meta.db_table} r ON r.name = %s "
            f"WHERE u.id IN ({listed}) AND {readable}",
            [room, *user_ids],
        )
        return {row[0] for row in cursor.fetchall()}


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
    *, id: int, room: str, seq: int, author: UserDict, body: str, created_at: datetime, client_id: str, rev: int,
    reply_to: ReplyDict | None = None, mentions: list[int] = (), edited_at: datetime | None = None,
    deleted: bool = False, reactions: list[ReactionDict] = (), attachments: list[AttachmentDict] = (),
) -> MessageDict:
    """The wire MESSAGE from its parts (a model, or a raw statement's row): the
    one place that shapes it. A deleted message shows nothing of what it said."""
    return {
        "id": id,
        "room": room,
        "seq": seq,
        "author": author,
        "body": "" if deleted else body,
        "created_at": timestamp_to_wire(created_at),
        "client_id": client_id,
        "rev": rev,
        "reply_to": None if deleted else reply_to,
        "mentions": [] if deleted else sorted(mentions),
        "edited_at": None if edited_at is None else timestamp_to_wire(edited_at),
        "deleted": deleted,
        "reactions": [] if deleted else list(reactions),
        "attachments": [] if deleted else list(attachments),
    }


def reply_wire(*, seq: int | None, author_id: int | None, username: str | None, excerpt: str) -> ReplyDict | None:
    """reply_to from its columns (None when the message replies to nothing)."""
    if seq is None:
        return None
    return {"seq": seq, "author": {"id": author_id, "username": username}, "excerpt": excerpt}


def reactions_wire(rows: list[tuple[str, int, str]]) -> list[ReactionDict]:
    """(emoji, user id, username) rows of one message, in the order they were
    added → each emoji once, in the order it was first added, its users by id."""
    reactions: dict[str, list[UserDict]] = {}
    for emoji, user_id, username in rows:
        reactions.setdefault(emoji, []).append({"id": user_id, "username": username})
    return [{"emoji": emoji, "users": sorted(users, key=lambda user: user["id"])} for emoji, users in reactions.items()]


# An ATTACHMENT's columns (wire.attachments_wire), in a message's order.
ATTACHMENT_COLUMNS = ("id", "name", "size", "content_type", "width", "height")


def messages_to_dicts(messages: list[Message]) -> list[MessageDict]:
    """Wire MESSAGEs of model rows from `_messages()`: three more queries for
    all of their reactions, mentions and attachments, whatever their number."""
    live = [message.pk for message in messages if not message.deleted]
    reactions: dict[int, list[tuple[str, int, str]]] = {}
    mentions: dict[int, list[int]] = {}
    attachments: dict[int, list[tuple]] = {}
    if live:
        rows = Upload.objects.filter(message_id__in=live).order_by("message_id", "position")
        for message_id, *columns in rows.values_list("message_id", *ATTACHMENT_COLUMNS):
            attachments.setdefault(message_id, []).append(columns)
        rows = (
            Reaction.objects.filter(message_id__in=live).order_by("pk")
            .values_list("message_id", "emoji", "user_id", "user__username")
        )
        for message_id, emoji, user_id, username in rows:
            reactions.setdefault(message_id, []).append((emoji, user_id, username))
        for message_id, user_id in Mention.objects.filter(message_id__in=live).values_list("message_id", "user_id"):
            mentions.setdefault(message_id, []).append(user_id)
    return [
        message_wire(
            id=message.pk, room=message.room.name, seq=message.seq, author=user_wire(message.author),
            body=message.body, created_at=message.created_at, client_id=message.client_id, rev=message.rev,
            reply_to=None if message.reply_to is None else reply_wire(
                seq=message.reply_to.seq, author_id=message.reply_to.author_id,
                username=message.reply_to.author.username, excerpt=message.reply_excerpt,
            ),
            mentions=mentions.get(message.pk, []), edited_at=message.edited_at, deleted=message.deleted,
            reactions=reactions_wire(reactions.get(message.pk, [])),
            attachments=attachments_wire(attachments.get(message.pk, [])),
        )
        for message in messages
    ]


def message_to_dict(message: Message) -> MessageDict:
    """The wire MESSAGE of one row of `_messages()`."""
    return messages_to_dicts([message])[0]


def _messages() -> QuerySet[Message]:
    # One query per page: the room, author and replied-to message come in the
    # same SELECT, and only the columns the wire shape needs (not the author's
    # password hash); messages_to_dicts adds reactions and mentions.
    return Message.objects.select_related("room", "author", "reply_to__author").only(
        "id", "seq", "body", "client_id", "created_at", "rev", "edited_at", "deleted", "reply_excerpt",
        "room__name", "author__username", "reply_to__seq", "reply_to__author__username",
    )


def _page(rows: list[Message], limit: int, *, newest_first: bool) -> tuple[list[MessageDict], bool]:
    """Rows were fetched with one extra to learn whether more exist beyond `limit`."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    if newest_first:
        rows.reverse()
    return messages_to_dicts(rows), has_more


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


def messages_stored_since(
    *, rooms: list[str], since: datetime, limit: int = LATEST_PAGE
) -> dict[str, list[MessageDict]]:
    """Per room that has any, its newest `limit` messages stored at or after
    `since`, ascending (chat/catchup.py: what live frames may have missed)."""
    found = {}
    for room in rooms:
        rows = list(_messages().filter(room__name=room, created_at__gte=since).order_by("-seq")[: max(limit, 0)])
        if rows:
            found[room] = messages_to_dicts(rows[::-1])
    return found


def messages_before(*, room: str, before: int, limit: int = 50, user: Any = None) -> tuple[list[MessageDict], bool]:
    """The newest `limit` messages with seq < before, ascending; has_more when
    older ones exist. Given a user, only if they may read the room (else none)."""
    messages = _messages() if user is None else _messages().filter(room__in=rooms_readable_by(user))
    rows = list(messages.filter(room__name=room, seq__lt=before).order_by("-seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=True)


def messages_after(*, room: str, after: int, limit: int = 50, user: Any = None) -> tuple[list[MessageDict], bool]:
    """The oldest `limit` messages with seq > after, ascending; has_more when
    newer ones exist. Given a user, only if they may read the room (else none)."""
    messages = _messages() if user is None else _messages().filter(room__in=rooms_readable_by(user))
    rows = list(messages.filter(room__name=room, seq__gt=after).order_by("seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=False)


# At most this many messages per `changes` (and `join` with `since_rev`).
CHANGES_PAGE = 500


def message_changes(
    *, room: str, since_rev: int, limit: int = CHANGES_PAGE, user: Any = None
) -> tuple[list[MessageDict], bool, int]:
    """(messages whose rev > since_rev ascending by rev, the `limit` lowest;
    has_more; the room's rev). The rev is read first: a room's revs commit in
    order (the row lock), so every change up to it is in the page, or in a
    newer rev of the same message in the page. Never below the page's last rev.
    Given a user, only if they may read the room (else nothing, rev 0)."""
    rooms = Room.objects.all() if user is None else rooms_readable_by(user)
    rev = rooms.filter(name=room).values_list("last_rev", flat=True).first()
    if rev is None:
        return [], False, 0
    rows = list(_messages().filter(room__name=room, rev__gt=since_rev).order_by("rev")[: max(limit, 0) + 1])
    messages, has_more = _page(rows, limit, newest_first=False)
    return messages, has_more, max([rev, *(message["rev"] for message in messages)])


def room_rev(*, room: str) -> int:
    return Room.objects.filter(name=room).values_list("last_rev", flat=True).first() or 0


def message_by_id(message_id: int) -> MessageDict:
    return message_to_dict(_messages().get(pk=message_id))


def message_at(*, room: str, seq: int) -> MessageDict | None:
    message = _messages().filter(room__name=room, seq=seq).first()
    return None if message is None else message_to_dict(message)


# ---- rooms ------------------------------------------------------------------


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
