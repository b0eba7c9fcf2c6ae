"""Who may read which room: the one rule (`rooms_readable_by`), its SQL twin
for the statements on the event loop (`READABLE_SQL`, `readable_sql`), and
the checks built on it."""

from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from chat.models import Membership, Room


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
