"""Writes of the chat domain: each one transaction, keyword-only, plain data out.

The room row is the lock that orders a room's messages: incrementing
`Room.last_seq` with one UPDATE takes the row lock until commit, so concurrent
writers (threads or processes) get consecutive seqs, and a rolled-back insert
gives its seq back. On PostgreSQL a send is one statement (a data-modifying
WITH); SQLite >= 3.35 has UPDATE ... RETURNING but no such WITH, so there it is
a short transaction.
"""

import contextlib
import functools
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.services import user_wire
from chat.mentions import mentioned_names, mentioned_user_ids
from chat.models import (
    DM_PREFIX, Mention, Membership, Message, NotifyLevel, PushSubscription, Reaction, Room, Upload,
)
from chat.notifications.services import levels_forget
from chat.selectors import (
    CHANGES_PAGE, LATEST_PAGE, READABLE_SQL, SINCE_PAGE, MessageDict, message_by_client_id, message_changes,
    message_wire, messages_latest, messages_since, reactions_wire, readable_sql, reply_wire, room_access,
    room_readable, room_rev, rooms_readable_by,
)
from chat.uploads.wire import attachments_wire

# A reply keeps this many characters of the message it replies to, as they were then.
REPLY_EXCERPT = 100


class RoomNotFound(Exception):
    """The room does not exist; `room_join` creates rooms."""

    def __init__(self, name: str) -> None:
        super().__init__(f"room {name!r} does not exist")
        self.name = name


class RoomForbidden(Exception):
    """The user may not see the room, or may not change it that way. The client
    hears one `forbidden` text for both and for a room that does not exist, so
    a private room's name never shows through."""

    def __init__(self, name: str, why: str = "") -> None:
        super().__init__(f"room {name!r}: {why or 'not readable by this user'}")
        self.name = name


class RoomExists(Exception):
    """`create` of a name that is taken."""


class MessageNotFound(Exception):
    """No message of that seq in the room, or (where that matters) a deleted one."""

    def __init__(self, room: str, seq: int) -> None:
        super().__init__(f"no message #{seq} in {room!r}")
        self.room, self.seq = room, seq


class InvalidAttachment(Exception):
    """A send names an upload that is not the sender's, or that a message holds already."""


class UserNotFound(Exception):
    """No active user has that username."""

    def __init__(self, username: str) -> None:
        super().__init__(f"no user {username!r}")
        self.username = username


def refuse_dm_name(name: str) -> None:
    """RoomForbidden for a `dm-` name: those rooms are made by `dm` alone."""
    if name.startswith(DM_PREFIX):
        raise RoomForbidden(name, "dm rooms are made by `dm`")


def room_join(*, user: Any, name: str, create: bool = True) -> None:
    """Makes the user a member of the room (read marker 0), creating a public
    room if needed and allowed; a missing room that may not be created is
    RoomNotFound, one the user may not read (rooms_readable_by) RoomForbidden,
    and so is a missing `dm-` name (those are made by `dm_create` only).

    Two statements when the room exists and is readable, whether or not the
    user is a member already: every join of every socket comes here. The
    membership is one INSERT that does nothing on the unique (user, room)
    constraint, so an existing marker stays and two processes joining at once
    both succeed; a new room comes from get_or_create, which re-reads on
    IntegrityError (and may find a private room made meanwhile: checked again).
    In a private or dm room the user is a member already (or staff, who then
    become one). The caller has already checked the name against the pattern.
    """
    room_id = rooms_readable_by(user).filter(name=name).values_list("pk", flat=True).first()
    if room_id is None:
        existing = Room.objects.filter(name=name).values_list("pk", flat=True).first()
        if existing is not None:
            # Made since the read above (another socket joined the new name at
            # the same moment: bench/scale.py's 10,000 sockets met it), or not
            # readable: asked again, by id.
            if not rooms_readable_by(user).filter(pk=existing).exists():
                raise RoomForbidden(name)
            room_id = existing
        elif not create:
            raise RoomNotFound(name)
        else:
            refuse_dm_name(name)
            room_id = Room.objects.get_or_create(name=name)[0].pk
            if not rooms_readable_by(user).filter(pk=room_id).exists():
                raise RoomForbidden(name)
    Membership.objects.bulk_create([Membership(user_id=user.pk, room_id=room_id)], ignore_conflicts=True)


# A join's new public room as one statement (PostgreSQL; chat/store.py runs it
# on the event loop before the join's own statement): made unless a room of
# that name exists, whatever its kind, which the join's statement then checks
# as for any room. The same row as room_join's get_or_create. Its row (the new
# room's id) says it was made; none, that it was there already.
ROOM_MAKE_SQL = f"""
INSERT INTO {Room._meta.db_table} (name, kind, topic, owner_id, last_seq, last_rev, created_at)
VALUES (%(name)s, '{Room.Kind.PUBLIC.value}', '', NULL, 0, 0, %(now)s)
ON CONFLICT (name) DO NOTHING
RETURNING id
"""


def room_create(*, user: Any, name: str, kind: str, topic: str = "") -> None:
    """A new public or private room owned by the user, who is its first member;
    RoomExists when the name is taken (by any room, readable or not), and
    RoomForbidden for a `dm-` name."""
    refuse_dm_name(name)
    if kind not in (Room.Kind.PUBLIC, Room.Kind.PRIVATE):
        raise ValueError(f"create makes public or private rooms, not {kind!r}")
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, kind=kind, topic=topic, owner_id=user.pk)
            Membership.objects.create(user_id=user.pk, room_id=room.pk)
    except IntegrityError:
        raise RoomExists(name) from None


# ---- direct messages --------------------------------------------------------------

# A dm room holds the sender and 1 to 7 others (the contract's 2 to 8 users).
DM_MAX_OTHERS = 7
# A room name's limit (frames.ROOM_NAME's pattern, Room.name).
DM_NAME_MAX = 64


def dm_name(user_ids: list[int]) -> str:
    """dm-3-17: the members' ids ascending, so one set of users has one name."""
    return DM_PREFIX + "-".join(str(user_id) for user_id in sorted(set(user_ids)))


def users_by_username(usernames: list[str]) -> list[Any]:
    """The active users of those names (whatever their case), in the order
    given; UserNotFound names the first that is unknown."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    found = []
    for username in usernames:
        match = user_model.objects.filter(**{f"{field}__iexact": username, "is_active": True}).only("id", field).first()
        if match is None:
            raise UserNotFound(username)
        found.append(match)
    return found


def dm_members(*, user: Any, usernames: list[str]) -> tuple[str, list[int], bool]:
    """(room name, member ids ascending, whether the room exists) of the dm room
    of the user and those others; the user's own name among them is ignored.
    UserNotFound for an unknown username; ValueError for none or more than 7 others."""
    others = {other.pk for other in users_by_username(usernames)} - {user.pk}
    if not 1 <= len(others) <= DM_MAX_OTHERS:
        raise ValueError(f"a dm has 1 to {DM_MAX_OTHERS} other users")
    member_ids = sorted(others | {user.pk})
    name = dm_name(member_ids)
    if len(name) > DM_NAME_MAX:
        # The contract's room names stop at 64 characters: eight members with
        # seven-digit ids would not fit, and such a room could not be joined.
        raise ValueError(f"these people's dm name would be over {DM_NAME_MAX} characters; start it with fewer of them")
    return name, member_ids, Room.objects.filter(name=name).exists()


def dm_create(*, name: str, member_ids: list[int]) -> bool:
    """Makes the dm room and its memberships unless it exists; True when this
    call made it. Two processes making it at once: the room's unique name lets
    one insert win; the other waits for its commit, fails, and finds it."""
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, kind=Room.Kind.DM)
            Membership.objects.bulk_create([Membership(user_id=user_id, room_id=room.pk) for user_id in member_ids])
    except IntegrityError:
        if not Room.objects.filter(name=name, kind=Room.Kind.DM).exists():
            raise
        return False
    return True


# ---- members and topic ------------------------------------------------------------


def _readable_access(*, user: Any, name: str) -> tuple[str, bool]:
    """(kind, owns) of a room the user may read; RoomForbidden otherwise."""
    access = room_access(user=user, name=name)
    if access is None or not access[1]:
        raise RoomForbidden(name)
    kind, _, owns = access
    return kind, owns


def member_invite(*, user: Any, room: str, username: str) -> tuple[dict, bool]:
    """Any member of a private room (or staff) adds another user: (USER, whether
    they are new to the room). RoomForbidden in public and dm rooms and for a
    room the user may not read; UserNotFound for an unknown username."""
    kind, _ = _readable_access(user=user, name=room)
    if kind != Room.Kind.PRIVATE:
        raise RoomForbidden(room, "only private rooms take invitations")
    [invitee] = users_by_username([username])
    room_id = Room.objects.filter(name=room).values_list("pk", flat=True).get()
    _, added = Membership.objects.get_or_create(user_id=invitee.pk, room_id=room_id)
    return user_wire(invitee), added


def member_remove(*, user: Any, room: str, username: str) -> tuple[dict, bool]:
    """The owner of a private room (or staff) takes a member out: (USER, whether
    they were a member). RoomForbidden for anyone else, in public and dm rooms,
    and for the owner themselves (who leaves instead); UserNotFound for an
    unknown username. Their notification level there goes with them."""
    kind, owns = _readable_access(user=user, name=room)
    if kind != Room.Kind.PRIVATE or not owns:
        raise RoomForbidden(room, "only the owner of a private room removes members")
    [member] = users_by_username([username])
    if Room.objects.filter(name=room, owner_id=member.pk).exists():
        raise RoomForbidden(room, "the owner cannot be removed")
    with transaction.atomic():
        removed, _ = Membership.objects.filter(user_id=member.pk, room__name=room).delete()
        levels_forget(user_id=member.pk, room=room)
    return user_wire(member), removed > 0


def topic_set(*, user: Any, room: str, topic: str) -> None:
    """Any member of a public or dm room, the owner of a private one (or staff
    anywhere they may read) sets the topic; RoomForbidden otherwise."""
    kind, owns = _readable_access(user=user, name=room)
    is_member = Membership.objects.filter(user_id=user.pk, room__name=room).exists()
    if not (owns or (kind != Room.Kind.PRIVATE and is_member)):
        raise RoomForbidden(room, "not allowed to change the topic")
    Room.objects.filter(name=room).update(topic=topic)


def room_enter(
    *, user: Any, name: str, since: int | None = None, create: bool = True, since_rev: int | None = None
) -> tuple[list[MessageDict], bool, int]:
    """`room_join`, then the join's messages and the room's rev: the newest 50
    (`messages_latest`), those after `since` (`messages_since`), or, with
    `since_rev`, what `changes` answers (`message_changes`; `since` ignored).
    One call, so a socket's join costs the consumer one trip to a database
    thread, not two."""
    room_join(user=user, name=name, create=create)
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


class SendLimited(Exception):
    """The user has stored as many messages as the send rate allows just now."""


@dataclass(frozen=True)
class SendRate:
    """At most `limit` messages stored per user in any `window` seconds."""

    limit: int
    window: float


def message_create(
    *, user: Any, room: str, body: str, client_id: str, rate: SendRate | None = None, reply_to: int | None = None,
    attachments: tuple[str, ...] = (),
) -> tuple[MessageDict, bool]:
    """`message_store`'s (message, created)."""
    message, created, _ = message_store(
        user=user, room=room, body=body, client_id=client_id, rate=rate, reply_to=reply_to, attachments=attachments
    )
    return message, created


def message_store(
    *, user: Any, room: str, body: str, client_id: str, rate: SendRate | None = None, reply_to: int | None = None,
    attachments: tuple[str, ...] = (),
) -> tuple[MessageDict, bool, bool]:
    """Stores the message with the room's next seq; returns (message, created,
    anyone_wants_all): the last, whether someone else in the room has the
    notification level "all" and a push subscription (SendStatement), so
    most sends need ask nothing more about pushes.

    If this user already sent client_id, stores nothing and returns (that
    message, False). Two sockets racing with the same client_id both reach the
    insert; the loser's unique-constraint error rolls its whole statement (or
    savepoint) back, seq increment included, so seq stays gapless, and it
    returns the winner's row. Moves the sender's read marker to the new seq.
    body is already trimmed. Raises RoomNotFound when the room does not exist,
    RoomForbidden when the user may not read it (rooms_readable_by),
    and SendLimited when the user has stored `rate.limit` messages in the last
    `rate.window` seconds; a resend may be refused so too, and the caller, who
    answers a resend whatever the rate, looks it up then. A reply (`reply_to`,
    a seq) to a message missing or deleted is MessageNotFound, unless it is a
    resend of one stored before. Takes the room's next rev, and mentions
    the users the body names who may read the room. `attachments` (upload
    ids) must be the sender's own uploads that no message holds, else
    InvalidAttachment (unless a resend); they are linked in the same
    statement or transaction as the message is stored.
    """
    statement = SendStatement(
        user=user, room=room, body=body, client_id=client_id, rate=rate, reply_to=reply_to, attachments=attachments
    )
    try:
        if connection.vendor == "postgresql":
            # Outside a transaction the statement commits by itself. Inside one
            # (tests, a caller's atomic block) a savepoint keeps a duplicate's
            # error from breaking the caller's transaction.
            with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
                with connection.cursor() as cursor:
                    cursor.execute(statement.sql, statement.params)
                    row = cursor.fetchone()
        else:
            row = _insert_in_a_transaction(statement)
    except IntegrityError:
        existing = message_by_client_id(user=user, client_id=client_id)
        if existing is None:
            raise
        return existing, False, False
    try:
        return statement.result(row), True, statement.anyone_wants_all(row)
    except (MessageNotFound, InvalidAttachment):  # a resend's uploads are held by its own message
        existing = message_by_client_id(user=user, client_id=client_id)
        if existing is None:
            raise
        return existing, False, False


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
    # Built once a process (two variants), not at every send: psycopg looks a
    # prepared statement up by its text, and a new string is hashed anew.
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


def _insert_in_a_transaction(statement: SendStatement) -> tuple:
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


def room_forget(*, user: Any, room: str) -> bool:
    """The user is no longer a member (a `leave` with `forget`): the membership,
    its read marker and their notification level there go, so a public room
    lists as `member` false, `unread` 0, and a private one is gone from their
    list. An owner who leaves their
    room leaves it without owner (staff still own it). True when the user was a
    member; a no-op for unknown rooms and non-members. Not for dm rooms (the
    caller refuses those)."""
    with transaction.atomic():
        removed, _ = Membership.objects.filter(user_id=user.pk, room__name=room).delete()
        levels_forget(user_id=user.pk, room=room)
        Room.objects.filter(name=room, owner_id=user.pk).update(owner=None)
    return removed > 0


def read_marker_move(*, user: Any, room: str, seq: int) -> None:
    """Moves the marker forward to min(seq, room.last_seq); never back.

    A no-op for unknown rooms and non-members. last_seq only grows, so clamping
    to a value read a moment ago is still correct.
    """
    last_seq = Room.objects.filter(name=room).values_list("last_seq", flat=True).first()
    if last_seq is None:
        return
    target = min(seq, last_seq)
    Membership.objects.filter(
        user_id=user.pk, room__in=rooms_readable_by(user).filter(name=room), last_read_seq__lt=target
    ).update(last_read_seq=target)
