"""A socket's join: the membership, then a page of messages and the room's rev,
in one database call (on PostgreSQL, for an existing room, one statement)."""

from typing import Any

from django.utils import timezone

from chat.models import Membership, Mention, Message, Reaction, Room, Upload
from chat.selectors import (
    CHANGES_PAGE, LATEST_PAGE, READABLE_SQL, SINCE_PAGE, MessageDict, message_changes, message_wire, messages_latest,
    messages_since, reactions_wire, reply_wire, room_rev,
)
from chat.uploads.wire import attachments_wire

from .errors import RoomForbidden, RoomNotFound
from .rooms import room_join


def room_enter(
    *, user: Any, name: str, since: int | None = None, since_rev: int | None = None
) -> tuple[list[MessageDict], bool, int]:
    """`room_join` of an existing room (RoomNotFound if there is none: a join's
    new room is `room_make`'s), then the join's messages and the room's rev: the newest 50
    (`messages_latest`), those after `since` (`messages_since`), or, with
    `since_rev`, what `changes` answers (`message_changes`; `since` ignored).
    One call, so a socket's join costs the consumer one trip to a database
    thread, not two."""
    room_join(user=user, name=name, create=False)
    if since_rev is not None:
        return message_changes(room=name, since_rev=since_rev)
    rev = room_rev(room=name)  # first: the page is at least as new (see message_changes)
    if since is None:
        return *messages_latest(room=name), rev
    return *messages_since(room=name, since=since), rev


# A join of an existing room as one statement (PostgreSQL): the membership
# (an INSERT that leaves an existing one and its marker alone) and a page of
# messages with their authors, replies, mentions and reactions (each message's
# as a correlated subquery on its index). Always at least one row: the room's
# id (NULL when there is no such room) and rev, and a message, or NULLs when
# the page is empty. `since` pages go up by seq from it, `since_rev` pages by
# rev; the latest page goes down from the newest. Only a room the user may
# read (READABLE_SQL, selectors.rooms_readable_by) gets a membership or gives
# a page; `readable` says which it was. One snapshot: the rev and the page agree.
_ENTER_SQL = """
WITH room AS (
    SELECT r.id, r.last_rev, {readable} AS readable FROM {room} r WHERE r.name = %(room)s
), member AS (
    INSERT INTO {membership} (user_id, room_id, last_read_seq, joined_at)
    SELECT %(user)s, id, 0, %(now)s FROM room WHERE readable
    ON CONFLICT (user_id, room_id) DO NOTHING
), page AS (
    SELECT m.id, m.seq, m.rev, m.body, m.client_id, m.created_at, m.edited_at, m.deleted,
           u.id AS author_id, u.{username} AS username,
           t.seq AS reply_seq, t.author_id AS reply_author_id, tu.{username} AS reply_username, m.reply_excerpt,
           (SELECT coalesce(array_agg(mn.user_id ORDER BY mn.user_id), '{{}}')
            FROM {mention} mn WHERE mn.message_id = m.id) AS mentions,
           (SELECT coalesce(json_agg(json_build_array(rc.emoji, rc.user_id, ru.{username}) ORDER BY rc.id), '[]')
            FROM {reaction} rc JOIN {user} ru ON ru.id = rc.user_id WHERE rc.message_id = m.id) AS reactions,
           (SELECT coalesce(json_agg(json_build_array(up.id, up.name, up.size, up.content_type, up.width, up.height)
                                     ORDER BY up.position), '[]')
            FROM {upload} up WHERE up.message_id = m.id) AS attachments
    FROM {message} m JOIN {user} u ON u.id = m.author_id
    LEFT JOIN {message} t ON t.id = m.reply_to_id LEFT JOIN {user} tu ON tu.id = t.author_id
    WHERE m.room_id = (SELECT id FROM room WHERE readable) AND m.{key} > %(since)s
    ORDER BY m.{key} {order} LIMIT %(limit)s
)
SELECT (SELECT id FROM room), (SELECT readable FROM room), (SELECT last_rev FROM room), page.*
FROM (SELECT 1) AS one LEFT JOIN page ON true
ORDER BY page.{key} {order}
"""


class EnterStatement:
    """`room_enter` of an existing room as PostgreSQL's single statement (`sql`,
    `params`), and what its rows mean (`result`); chat/store.py runs it on the
    event loop. The same pages as messages_latest, messages_since and
    message_changes."""

    def __init__(self, *, user: Any, name: str, since: int | None, since_rev: int | None = None):
        from django.contrib.auth import get_user_model

        user_model = get_user_model()
        tables = {
            "room": Room._meta.db_table, "membership": Membership._meta.db_table,
            "message": Message._meta.db_table, "user": user_model._meta.db_table,
            "mention": Mention._meta.db_table, "reaction": Reaction._meta.db_table,
            "upload": Upload._meta.db_table, "username": user_model.USERNAME_FIELD,
        }
        self.name = name
        self.latest = since is None and since_rev is None
        self.by_rev = since_rev is not None
        self.limit = LATEST_PAGE if self.latest else (CHANGES_PAGE if self.by_rev else SINCE_PAGE)
        self.sql = _ENTER_SQL.format(
            **tables, readable=READABLE_SQL, order="DESC" if self.latest else "ASC",
            key="rev" if self.by_rev else "seq",
        )
        self.params = {
            "room": name, "user": user.pk, "staff": bool(user.is_staff), "now": timezone.now(),
            "since": -1 if self.latest else (since_rev if self.by_rev else since), "limit": self.limit + 1,
        }

    def result(self, rows: list[tuple]) -> tuple[list[MessageDict], bool, int]:
        """(messages ascending, has_more, the room's rev); RoomNotFound when
        there is no such room, RoomForbidden when the user may not read it."""
        if rows[0][0] is None:
            raise RoomNotFound(self.name)
        if not rows[0][1]:
            raise RoomForbidden(self.name)
        rev = rows[0][2]
        messages = [
            message_wire(
                id=message_id, room=self.name, seq=seq, author={"id": author_id, "username": username},
                body=body, created_at=created_at, client_id=client_id, rev=message_rev, edited_at=edited_at,
                deleted=deleted, mentions=mentions,
                reply_to=reply_wire(seq=reply_seq, author_id=reply_author_id, username=reply_username, excerpt=excerpt),
                reactions=reactions_wire(reactions), attachments=attachments_wire(attachments),
            )
            for (_, _, _, message_id, seq, message_rev, body, client_id, created_at, edited_at, deleted, author_id,
                 username, reply_seq, reply_author_id, reply_username, excerpt, mentions, reactions, attachments)
            in rows
            if message_id is not None
        ]
        has_more = len(messages) > self.limit
        messages = messages[: self.limit]
        if self.latest:
            messages.reverse()
        return messages, has_more, rev
