"""A `send` on SQLite: the steps of sendstatement.py's statement, returning its row."""

from typing import Any

from django.db import connection, transaction

from chat.mentions import mentioned_user_ids
from chat.models import Membership, Mention, Message, NotifyLevel, PushSubscription, Room, Upload
from chat.selectors import READABLE_SQL, room_readable

from .errors import RoomForbidden, RoomNotFound
from .sendstatement import REPLY_EXCERPT, SendStatement


def insert_in_a_transaction(statement: SendStatement) -> tuple:
    # SQLite has no data-modifying WITH: the same steps, one transaction (an
    # IMMEDIATE one: it holds the write lock from its start, so no other
    # writer can take an upload between the check and the link).
    params = statement.params
    wanted = len(statement.attachments)
    nothing = (None, None, None, None, wanted, [], False)
    with transaction.atomic():
        sent = Message.objects.filter(
            author_id=params["author"], created_at__gt=params["window_start"]
        )[: statement.rate.limit].count()
        if sent >= statement.rate.limit:
            return None, None, None, None, sent, True, True, [], *nothing
        target = None
        if statement.reply_to is not None:
            target = (
                Message.objects.select_related("author").only("id", "seq", "body", "author__username")
                .filter(room__name=statement.room, seq=statement.reply_to, deleted=False).first()
            )
        free = wanted
        if statement.attachments:
            free = Upload.objects.filter(
                pk__in=statement.attachments, uploader_id=params["author"], message__isnull=True
            ).count()
        try:
            if free != wanted or (statement.reply_to is not None and target is None):
                if room_readable(user=statement.user, name=statement.room):
                    return None, None, None, None, sent, True, True, [], None, None, None, None, free, [], False
                raise RoomForbidden(statement.room) if Room.objects.filter(name=statement.room).exists() \
                    else RoomNotFound(statement.room)
            room_id, seq, rev = _next_seq(statement.room, statement.user)
        except RoomNotFound:
            return None, None, None, None, sent, False, False, [], *nothing
        except RoomForbidden:
            return None, None, None, None, sent, True, False, [], *nothing
        message = Message.objects.create(
            room_id=room_id, seq=seq, rev=rev, author=statement.user, body=statement.body,
            client_id=statement.client_id, created_at=statement.now, reply_to=target,
            reply_excerpt="" if target is None else target.body[:REPLY_EXCERPT],
        )
        _marker_raise(user=statement.user, room_id=room_id, seq=seq)
        mentions = mentioned_user_ids(room_id=room_id, body=statement.body)
        Mention.objects.bulk_create([Mention(message=message, user_id=uid, room_id=room_id, seq=seq) for uid in mentions])
        attached = []
        if statement.attachments:
            for position, upload_id in enumerate(statement.attachments):
                Upload.objects.filter(pk=upload_id).update(message=message, position=position)
            attached = list(
                Upload.objects.filter(message=message).order_by("position")
                .values_list("id", "name", "size", "content_type", "width", "height")
            )
        anyone_wants_all = (
            NotifyLevel.objects.filter(room_id=room_id, level=NotifyLevel.Level.ALL)
            .exclude(user_id=params["author"])
            .filter(user_id__in=PushSubscription.objects.values("user_id")).exists()
        )
    reply = (None, None, None, None) if target is None else (
        target.seq, target.author_id, target.author.username, target.body[:REPLY_EXCERPT]
    )
    return message.pk, seq, rev, message.created_at, sent, True, True, mentions, *reply, wanted, attached, anyone_wants_all


def _next_seq(room: str, user: Any) -> tuple[int, int, int]:
    """(room id, seq, rev) for the next message in a room the user may read
    (READABLE_SQL); holds the room row lock until commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} AS r SET last_seq = r.last_seq + 1, last_rev = r.last_rev + 1"
            f" WHERE r.name = %(room)s AND {READABLE_SQL} RETURNING id, last_seq, last_rev",
            {"room": room, "user": user.pk, "staff": bool(user.is_staff)},
        )
        row = cursor.fetchone()
    if row is None:
        if Room.objects.filter(name=room).exists():
            raise RoomForbidden(room)
        raise RoomNotFound(room)
    return row[0], row[1], row[2]


def _marker_raise(*, user: Any, room_id: int, seq: int) -> None:
    """Moves the marker up to seq, never down; the WHERE makes it race-free."""
    moved = Membership.objects.filter(user_id=user.pk, room_id=room_id, last_read_seq__lt=seq).update(last_read_seq=seq)
    if not moved and not Membership.objects.filter(user_id=user.pk, room_id=room_id).exists():
        # A sender is a member; repair a missing membership rather than lose the marker.
        Membership.objects.get_or_create(user_id=user.pk, room_id=room_id, defaults={"last_read_seq": seq})
