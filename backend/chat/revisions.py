"""Writes that change a stored message: edit, delete (a tombstone), react.

Each is one transaction that takes the room's next `rev` only when something
changes; a request that changes nothing answers the message as it is. Locks
are taken in one order, the message row and then the room row (whose
`last_rev` hands out the rev, as `last_seq` hands out the seq), so two changes
never wait on each other in a cycle; a send locks only the room row, and a new
message row nobody else can wait on. The room row stays locked until commit,
so a room's revs commit in order: a reader that sees rev N committed sees
every change up to N (selectors.message_changes relies on it).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from chat.mentions import mentioned_user_ids
from chat.models import Mention, Message, Reaction, Room
from chat.selectors import MessageDict, message_by_id, room_access
from chat.services import MessageNotFound, RoomForbidden


class MessageForbidden(Exception):
    """The user may read the message but not change it that way."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class TooManyReactions(Exception):
    """A new emoji on a message that has Reaction.MAX_EMOJI_PER_MESSAGE already."""


def message_edit(*, user: Any, room: str, seq: int, body: str) -> tuple[MessageDict, bool]:
    """The author replaces the body (already trimmed and checked) and the
    mentions: (message, changed). The same body changes nothing.
    RoomForbidden, MessageNotFound (missing or deleted), MessageForbidden (not the author)."""
    with transaction.atomic():
        message = _locked(user=user, room=room, seq=seq)
        if message.deleted:
            raise MessageNotFound(room, seq)
        if message.author_id != user.pk:
            raise MessageForbidden("only its author may edit a message")
        if message.body == body:
            return _wire(message.pk), False
        rev = _next_rev(message.room_id)
        Message.objects.filter(pk=message.pk).update(body=body, edited_at=timezone.now(), rev=rev)
        Mention.objects.filter(message_id=message.pk).delete()
        Mention.objects.bulk_create([
            Mention(message_id=message.pk, user_id=user_id, room_id=message.room_id, seq=message.seq)
            for user_id in mentioned_user_ids(room_id=message.room_id, body=body)
        ])
        return _wire(message.pk), True


def message_delete(*, user: Any, room: str, seq: int) -> tuple[MessageDict, bool]:
    """The author, the room's owner or staff (room_access's `owns`) make the
    message a tombstone: (message, changed); a deleted one changes nothing.
    RoomForbidden, MessageNotFound (missing), MessageForbidden (anyone else)."""
    access = room_access(user=user, name=room)
    with transaction.atomic():
        message = _locked(user=user, room=room, seq=seq)
        if message.deleted:
            return _wire(message.pk), False
        owns = access is not None and access[2]
        if message.author_id != user.pk and not owns:
            raise MessageForbidden("only its author, the room's owner or staff may delete a message")
        _tombstone(message)
        return _wire(message.pk), True


def message_tombstone(*, message_id: int) -> MessageDict | None:
    """Staff's delete from the admin, whatever the room: the message, when
    this call deleted it (None when it was deleted already)."""
    with transaction.atomic():
        message = Message.objects.select_for_update(no_key=True).filter(pk=message_id).only("id", "room_id", "deleted").first()
        if message is None or message.deleted:
            return None
        _tombstone(message)
        return _wire(message.pk)


def message_react(*, user: Any, room: str, seq: int, emoji: str, active: bool) -> tuple[MessageDict, bool]:
    """Adds (`active`) or removes the user's emoji on the message: (message,
    changed); one already there, or not there, changes nothing. RoomForbidden,
    MessageNotFound (missing or deleted), TooManyReactions for a new emoji past
    Reaction.MAX_EMOJI_PER_MESSAGE. The message row's lock makes the count exact."""
    with transaction.atomic():
        message = _locked(user=user, room=room, seq=seq)
        if message.deleted:
            raise MessageNotFound(room, seq)
        mine = Reaction.objects.filter(message_id=message.pk, emoji=emoji, user_id=user.pk)
        if mine.exists() == active:
            return _wire(message.pk), False
        if active:
            emoji_there = set(Reaction.objects.filter(message_id=message.pk).values_list("emoji", flat=True))
            if emoji not in emoji_there and len(emoji_there) >= Reaction.MAX_EMOJI_PER_MESSAGE:
                raise TooManyReactions()
            Reaction.objects.create(message_id=message.pk, emoji=emoji, user_id=user.pk)
        else:
            mine.delete()
        Message.objects.filter(pk=message.pk).update(rev=_next_rev(message.room_id))
        return _wire(message.pk), True


# ---- helpers ---------------------------------------------------------------------


def _locked(*, user: Any, room: str, seq: int) -> Message:
    """The message, its row locked until commit, in a room the user may read
    (RoomForbidden otherwise, also for a room that does not exist)."""
    access = room_access(user=user, name=room)
    if access is None or not access[1]:
        raise RoomForbidden(room)
    message = (
        # NO KEY UPDATE: a send replying to this message (its foreign key's KEY
        # SHARE lock, taken while it holds the room row) must not wait on us
        # while we wait on the room row.
        Message.objects.select_for_update(of=("self",), no_key=True)
        .filter(room__name=room, seq=seq)
        .only("id", "room_id", "seq", "author_id", "body", "deleted")
        .first()
    )
    if message is None:
        raise MessageNotFound(room, seq)
    return message


def _next_rev(room_id: int) -> int:
    """The room's next rev; the room row stays locked until commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET last_rev = last_rev + 1 WHERE id = %s RETURNING last_rev", [room_id]
        )
        return cursor.fetchone()[0]


def _tombstone(message: Message) -> None:
    """Deleted: the seq stays, the body, reply, mentions and reactions go."""
    rev = _next_rev(message.room_id)
    Message.objects.filter(pk=message.pk).update(deleted=True, body="", reply_to=None, reply_excerpt="", rev=rev)
    Mention.objects.filter(message_id=message.pk).delete()
    Reaction.objects.filter(message_id=message.pk).delete()


_wire = message_by_id
