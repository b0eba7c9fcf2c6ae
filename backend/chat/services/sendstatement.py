"""A `send` as PostgreSQL's single statement: its SQL, built once per process,
and what its row means."""

import functools
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.services import user_wire
from chat.mentions import mentioned_names
from chat.models import Membership, Mention, Message, NotifyLevel, PushSubscription, Room, Upload
from chat.selectors import READABLE_SQL, MessageDict, message_wire, readable_sql, reply_wire
from chat.uploads.wire import attachments_wire

from .errors import InvalidAttachment, MessageNotFound, RoomForbidden, RoomNotFound, SendLimited

# A reply keeps this many characters of the message it replies to, as they were then.
REPLY_EXCERPT = 100


@dataclass(frozen=True)
class SendRate:
    """At most `limit` messages stored per user in any `window` seconds."""

    limit: int
    window: float


# The rate check, the seq and rev increment, the insert, the sender's read
# marker and the mentions in one statement: one round trip, atomic on its own.
# The rate counts what the user stored in the window (an index walk of at most
# `limit` rows). It always returns one row: the new message's id, seq, rev and
# time, all NULL when nothing was stored (the room does not exist, the rate
# said no, or the message replied to is missing or deleted), and what tells
# those apart. A repeated (author, client_id) fails the whole statement, so the
# increments are undone with it. Only a room the user may read (READABLE_SQL)
# takes the message, and only users who may read it are mentioned (the same
# rule for each named user). The marker is an upsert, so a sender whose
# membership row is missing gets it back instead of losing the marker. The
# last column says whether someone else in the room wants every message
# ("all") and has a push subscription: a probe of an index of only the "all"
# rows (usually none), so most sends ask nothing more about pushes.
_INSERT_SQL = f"""
WITH recent AS (
    SELECT count(*) AS sent FROM (
        SELECT 1 FROM {Message._meta.db_table}
        WHERE author_id = %(author)s AND created_at > %(window_start)s LIMIT %(limit)s
    ) AS window_rows
), target AS (
    SELECT t.id, t.seq, t.author_id, tu.{{username}} AS username, left(t.body, {REPLY_EXCERPT}) AS excerpt
    FROM {Message._meta.db_table} t
    JOIN {Room._meta.db_table} tr ON tr.id = t.room_id JOIN {{user}} tu ON tu.id = t.author_id
    WHERE tr.name = %(room)s AND t.seq = %(reply_to)s AND NOT t.deleted
){{wanted}}, room AS (
    UPDATE {Room._meta.db_table} AS r SET last_seq = r.last_seq + 1, last_rev = r.last_rev + 1
    WHERE r.name = %(room)s AND (SELECT sent FROM recent) < %(limit)s AND {READABLE_SQL}
      AND (%(reply_to)s::bigint IS NULL OR EXISTS (SELECT 1 FROM target)){{all_wanted}}
    RETURNING r.id, r.kind, r.last_seq, r.last_rev
), message AS (
    INSERT INTO {Message._meta.db_table}
        (room_id, seq, rev, author_id, body, client_id, created_at, reply_to_id, reply_excerpt)
    SELECT id, last_seq, last_rev, %(author)s, %(body)s, %(client_id)s, %(now)s,
           (SELECT id FROM target), coalesce((SELECT excerpt FROM target), '')
    FROM room
    RETURNING id, room_id, seq, rev, created_at
), marker AS (
    INSERT INTO {Membership._meta.db_table} (user_id, room_id, last_read_seq, joined_at)
    SELECT %(author)s, room_id, seq, %(now)s FROM message
    ON CONFLICT (user_id, room_id)
    DO UPDATE SET last_read_seq = GREATEST({Membership._meta.db_table}.last_read_seq, EXCLUDED.last_read_seq)
), mentioned AS (
    INSERT INTO {Mention._meta.db_table} (message_id, user_id, room_id, seq)
    SELECT message.id, u.id, message.room_id, message.seq
    FROM message JOIN room r ON r.id = message.room_id CROSS JOIN {{user}} u
    WHERE lower(u.{{username}}) = ANY(%(mentions)s::text[]) AND u.is_active
      AND {readable_sql(user="u.id", staff="u.is_staff")}
    RETURNING user_id
){{linked}}
SELECT message.id, message.seq, message.rev, message.created_at, recent.sent,
       -- Why nothing was stored: asked only then (CASE evaluates lazily).
       CASE WHEN message.id IS NULL THEN EXISTS (SELECT 1 FROM {Room._meta.db_table} WHERE name = %(room)s) END,
       CASE WHEN message.id IS NULL THEN
           EXISTS (SELECT 1 FROM {Room._meta.db_table} r WHERE r.name = %(room)s AND {READABLE_SQL}) END,
       (SELECT coalesce(array_agg(user_id ORDER BY user_id), '{{{{}}}}') FROM mentioned),
       target.seq, target.author_id, target.username, target.excerpt, {{attached}},
       CASE WHEN message.id IS NOT NULL THEN EXISTS (
           SELECT 1 FROM {NotifyLevel._meta.db_table} nl
           JOIN {PushSubscription._meta.db_table} ps ON ps.user_id = nl.user_id
           WHERE nl.room_id = message.room_id AND nl.level = 'all' AND nl.user_id <> %(author)s) END
FROM recent LEFT JOIN message ON true LEFT JOIN target ON true
"""

# A send with attachments adds these to the statement (one without stays as
# cheap as before): the named uploads that are the sender's and free, locked
# in id order (two sends naming one upload: the second finds it taken once
# the first commits, and stores nothing); the room takes the message only if
# all of them are; the message then holds them, in the order named.
_ATTACHING = {
    "wanted": f""", wanted AS (
    SELECT up.id FROM {Upload._meta.db_table} up
    WHERE up.id = ANY(%(attachments)s::text[]) AND up.uploader_id = %(author)s AND up.message_id IS NULL
    ORDER BY up.id FOR UPDATE
)""",
    "all_wanted": "\n      AND (SELECT count(*) FROM wanted) = cardinality(%(attachments)s::text[])",
    "linked": f""", linked AS (
    UPDATE {Upload._meta.db_table} AS up
    SET message_id = message.id, position = array_position(%(attachments)s::text[], up.id::text) - 1
    FROM message WHERE up.id IN (SELECT id FROM wanted)
    RETURNING up.id, up.name, up.size, up.content_type, up.width, up.height, up.position
)""",
    "attached": "(SELECT count(*) FROM wanted),"
    " (SELECT coalesce(json_agg(json_build_array(id, name, size, content_type, width, height) ORDER BY position),"
    " '[]') FROM linked)",
}
_NOT_ATTACHING = {"wanted": "", "all_wanted": "", "linked": "", "attached": "0, '[]'::json"}

# Without a rate, a limit no count reaches.
_UNLIMITED = SendRate(limit=2**62, window=0.0)


@functools.cache
def _send_sql(*, attaching: bool) -> str:
    # Built once a process (two variants), not at every send: the store looks
    # its numbered text and asyncpg its prepared statement up by this text,
    # and a new string is hashed anew.
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return _INSERT_SQL.format(
        user=user_model._meta.db_table, username=user_model.USERNAME_FIELD,
        **(_ATTACHING if attaching else _NOT_ATTACHING),
    )


class SendStatement:
    """One `send` as PostgreSQL's single statement (`sql`, `params`), and what
    its row means (`result`); chat/store.py runs the same statement on the
    event loop."""

    def __init__(
        self, *, user: Any, room: str, body: str, client_id: str, rate: SendRate | None, reply_to: int | None = None,
        attachments: tuple[str, ...] = (),
    ):
        self.sql = _send_sql(attaching=bool(attachments))
        self.user, self.room, self.body, self.client_id, self.reply_to = user, room, body, client_id, reply_to
        self.attachments = tuple(attachments)
        self.rate = rate or _UNLIMITED
        self.now = timezone.now()
        self.params = {
            "room": room, "author": user.pk, "user": user.pk, "staff": bool(user.is_staff), "body": body,
            "client_id": client_id, "now": self.now, "reply_to": reply_to, "mentions": mentioned_names(body),
            "limit": self.rate.limit, "window_start": self.now - timedelta(seconds=self.rate.window),
        }
        if attachments:
            self.params["attachments"] = list(self.attachments)

    def result(self, row: tuple) -> MessageDict:
        """The stored message; SendLimited, RoomNotFound, RoomForbidden,
        InvalidAttachment or MessageNotFound (the reply's target) when nothing
        was stored."""
        (message_id, seq, rev, created_at, sent, exists, readable, mentions,
         reply_seq, reply_author_id, reply_username, excerpt, free, attached, _) = row
        if message_id is None:
            if sent >= self.rate.limit:
                raise SendLimited()
            if not exists:
                raise RoomNotFound(self.room)
            if readable and free != len(self.attachments):
                raise InvalidAttachment()
            if readable and self.reply_to is not None and reply_seq is None:
                raise MessageNotFound(self.room, self.reply_to)
            raise RoomForbidden(self.room)
        return message_wire(
            id=message_id, room=self.room, seq=seq, author=user_wire(self.user), body=self.body,
            created_at=created_at, client_id=self.client_id, rev=rev, mentions=list(mentions),
            reply_to=reply_wire(seq=reply_seq, author_id=reply_author_id, username=reply_username, excerpt=excerpt),
            attachments=attachments_wire(json.loads(attached) if isinstance(attached, str) else attached),
        )

    @staticmethod
    def anyone_wants_all(row: tuple) -> bool:
        """Whether someone else in the room has the level "all" and a push subscription."""
        return bool(row[14])
