"""A `send`: the message stored with the room's next seq, once per client_id.

The room row is the lock that orders a room's messages: incrementing
`Room.last_seq` with one UPDATE takes the row lock until commit, so concurrent
writers (threads or processes) get consecutive seqs, and a rolled-back insert
gives its seq back. On PostgreSQL a send is one statement (a data-modifying
WITH, sendstatement.py); SQLite >= 3.35 has UPDATE ... RETURNING but no such
WITH, so there it is a short transaction (sendsqlite.py).
"""

import contextlib
from typing import Any

from django.db import IntegrityError, connection, transaction

from chat.selectors import MessageDict, message_by_client_id

from .errors import InvalidAttachment, MessageNotFound
from .sendsqlite import insert_in_a_transaction
from .sendstatement import SendRate, SendStatement


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
            row = insert_in_a_transaction(statement)
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
