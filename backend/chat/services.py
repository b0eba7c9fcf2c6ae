"""Writes of the chat domain: each one transaction, keyword-only, plain data out.

The room row is the lock that orders a room's messages: incrementing
`Room.last_seq` with one UPDATE takes the row lock until commit, so concurrent
writers (threads or processes) get consecutive seqs, and a rolled-back insert
gives its seq back. PostgreSQL and SQLite >= 3.35 both support UPDATE ...
RETURNING.
"""

from typing import Any

from django.db import IntegrityError, connection, transaction

from chat.models import Membership, Message, Room
from chat.selectors import MessageDict, message_by_client_id, message_to_dict, messages_latest, messages_since


class RoomNotFound(Exception):
    """The room does not exist; `room_join` creates rooms."""

    def __init__(self, name: str) -> None:
        super().__init__(f"room {name!r} does not exist")
        self.name = name


def room_join(*, user: Any, name: str, create: bool = True) -> None:
    """Makes the user a member of the room (read marker 0), creating the room if
    needed and allowed; a missing room that may not be created is RoomNotFound.

    Two statements when the room exists, whether or not the user is a member
    already: every join of every socket comes here. The membership is one
    INSERT that does nothing on the unique (user, room) constraint, so an
    existing marker stays and two processes joining at once both succeed; a
    new room comes from get_or_create, which re-reads on IntegrityError.
    The caller has already checked the name against the room-name pattern.
    """
    room_id = Room.objects.filter(name=name).values_list("pk", flat=True).first()
    if room_id is None:
        if not create:
            raise RoomNotFound(name)
        room_id = Room.objects.get_or_create(name=name)[0].pk
    Membership.objects.bulk_create([Membership(user_id=user.pk, room_id=room_id)], ignore_conflicts=True)


def room_enter(
    *, user: Any, name: str, since: int | None = None, create: bool = True
) -> tuple[list[MessageDict], bool]:
    """`room_join`, then the join's messages: the newest 50 (`messages_latest`)
    or those after `since` (`messages_since`). One call, so a socket's join
    costs the consumer one trip to a database thread, not two."""
    room_join(user=user, name=name, create=create)
    if since is None:
        return messages_latest(room=name)
    return messages_since(room=name, since=since)


def _next_seq(room: str) -> tuple[int, int]:
    """(room id, seq) for the next message; holds the room row lock until commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + 1 WHERE name = %s RETURNING id, last_seq",
            [room],
        )
        row = cursor.fetchone()
    if row is None:
        raise RoomNotFound(room)
    return row[0], row[1]


def _marker_raise(*, user: Any, room_id: int, seq: int) -> None:
    """Moves the marker up to seq, never down; the WHERE makes it race-free."""
    moved = Membership.objects.filter(user_id=user.pk, room_id=room_id, last_read_seq__lt=seq).update(last_read_seq=seq)
    if not moved and not Membership.objects.filter(user_id=user.pk, room_id=room_id).exists():
        # A sender is a member; repair a missing membership rather than lose the marker.
        Membership.objects.get_or_create(user_id=user.pk, room_id=room_id, defaults={"last_read_seq": seq})


def message_create(*, user: Any, room: str, body: str, client_id: str) -> tuple[MessageDict, bool]:
    """Stores the message with the room's next seq; returns (message, created).

    If this user already sent client_id, stores nothing and returns (that
    message, False). Two sockets racing with the same client_id both reach the
    insert; the loser's unique-constraint error rolls its savepoint back, seq
    increment included, so seq stays gapless, and it returns the winner's row.
    Moves the sender's read marker to the new seq. body is already trimmed.
    Raises RoomNotFound when the room does not exist.
    """
    existing = message_by_client_id(user=user, client_id=client_id)
    if existing is not None:
        return existing, False
    return message_insert(user=user, room=room, body=body, client_id=client_id)


def message_insert(*, user: Any, room: str, body: str, client_id: str) -> tuple[MessageDict, bool]:
    """`message_create` for a caller that has just looked client_id up itself.

    The consumer must know of a resend before it counts the send against the
    rate limit; it does not need the same query again here. A resend that
    arrives meanwhile still ends at the unique constraint, as in a race.
    """
    try:
        with transaction.atomic():
            room_id, seq = _next_seq(room)
            message = Message.objects.create(room_id=room_id, seq=seq, author=user, body=body, client_id=client_id)
            _marker_raise(user=user, room_id=room_id, seq=seq)
    except IntegrityError:
        existing = message_by_client_id(user=user, client_id=client_id)
        if existing is None:
            raise
        return existing, False
    message.room = Room(pk=room_id, name=room, last_seq=seq)
    return message_to_dict(message), True


def read_marker_move(*, user: Any, room: str, seq: int) -> None:
    """Moves the marker forward to min(seq, room.last_seq); never back.

    A no-op for unknown rooms and non-members. last_seq only grows, so clamping
    to a value read a moment ago is still correct.
    """
    last_seq = Room.objects.filter(name=room).values_list("last_seq", flat=True).first()
    if last_seq is None:
        return
    target = min(seq, last_seq)
    Membership.objects.filter(user_id=user.pk, room__name=room, last_read_seq__lt=target).update(last_read_seq=target)
