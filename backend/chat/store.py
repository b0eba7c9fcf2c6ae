"""The two statements of every socket's everyday traffic, on the event loop.

On PostgreSQL a `send` (services.SendStatement) and a `join` of an existing
room (services.EnterStatement) are one statement each, run through asyncpg
and a small pool of this process's own connections (chat/pgpool.py): no thread
hop and no ORM. A thread hop per send (`database_sync_to_async`) cost about a
third of the server's CPU in small rooms, and the join's ORM queries in a
thread a third of a connect storm's (issue 7, README "Speed"). Elsewhere
(SQLite), and for a join that makes a room, they are services functions in a
database thread, as every other database call.

Either way a write may outlive its deadline: the socket is answered
`server_error`, yet the statement may still commit once the database answers.
Whatever such a late write stored is announced to the room then, so the room
sees it live and the client's resend (same client_id) finds it stored.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from django.conf import settings
from django.utils import timezone

from chat import events, metrics, pgpool, selectors, services
from chat.deadlines import DependencyTimeout, db
from chat.notifications import push
from chat.selectors import MessageDict

log = logging.getLogger(__name__)

_late: set[asyncio.Task] = set()


async def message_create(
    *, user: Any, room: str, body: str, client_id: str, rate: services.SendRate | None, reply_to: int | None = None,
    attachments: tuple[str, ...] = (),
) -> tuple[MessageDict, bool]:
    """`message_store`'s (message, created)."""
    message, created, _ = await message_store(
        user=user, room=room, body=body, client_id=client_id, rate=rate, reply_to=reply_to, attachments=attachments
    )
    return message, created


async def message_store(
    *, user: Any, room: str, body: str, client_id: str, rate: services.SendRate | None, reply_to: int | None = None,
    attachments: tuple[str, ...] = (),
) -> tuple[MessageDict, bool, bool]:
    """services.message_store within CHAT_DB_TIMEOUT, as DependencyTimeout past
    it: (message, created, whether someone else in the room wants every message
    pushed)."""
    if not pgpool.on_event_loop():
        return await db(services.message_store)(
            user=user, room=room, body=body, client_id=client_id, rate=rate, reply_to=reply_to,
            attachments=attachments,
        )
    statement = services.SendStatement(
        user=user, room=room, body=body, client_id=client_id, rate=rate, reply_to=reply_to, attachments=attachments
    )
    try:
        # A write cut off by the deadline (or by the socket closing) goes on,
        # and what it stores is announced then.
        row = await _within_deadline(
            statement.sql, statement.params, what="a send", abandoned=functools.partial(_announce_late, statement)
        )
    except asyncpg.IntegrityConstraintViolationError:  # e.g. the client_id is stored already: a resend
        existing = await db(selectors.message_by_client_id)(user=user, client_id=client_id)
        if existing is None:
            raise
        return existing, False, False
    try:
        return statement.result(row), True, statement.anyone_wants_all(row)
    # The reply's target is gone, or the uploads are held (by the resent
    # message itself): a resend is still answered.
    except (services.MessageNotFound, services.InvalidAttachment):
        existing = await db(selectors.message_by_client_id)(user=user, client_id=client_id)
        if existing is None:
            raise
        return existing, False, False


async def room_enter(
    *, user: Any, name: str, since: int | None, since_rev: int | None = None
) -> tuple[list[MessageDict], bool, int]:
    """services.room_enter of an existing room within CHAT_DB_TIMEOUT, as
    DependencyTimeout past it: (messages, has_more, the room's rev)."""
    if not pgpool.on_event_loop():
        return await db(services.room_enter)(user=user, name=name, since=since, since_rev=since_rev)
    statement = services.EnterStatement(user=user, name=name, since=since, since_rev=since_rev)
    return statement.result(await read(statement.sql, statement.params, all_rows=True, what="a join"))


async def room_make(*, name: str) -> bool:
    """services.room_make within CHAT_DB_TIMEOUT: a new public room unless one of
    that name exists, and whether this call made it (two sockets joining a new
    name at once both come here; only the one that made it announces it)."""
    if not pgpool.on_event_loop():
        return await db(services.room_make)(name=name)
    services.refuse_dm_name(name)
    # One statement, not the ORM's get_or_create in a thread: a connect storm's
    # first joins make many rooms at once. The join's own statement then checks
    # the room as any other (another's private room of that name: forbidden).
    made = await read(services.ROOM_MAKE_SQL, {"name": name, "now": timezone.now()}, what="a new room")
    return made is not None


async def read(sql: str, params: dict | list, *, all_rows: bool = False, what: str = "a read"):
    """A read-only statement through the pool within CHAT_DB_TIMEOUT: its first
    row (None if none) or all its rows; DependencyTimeout past the deadline."""
    return await _within_deadline(sql, params, all_rows=all_rows, what=what, abandoned=_forget)


async def _within_deadline(
    sql: str, params: dict | list, *, what: str, abandoned: Callable[[asyncio.Future], None], all_rows: bool = False
):
    """The statement's row(s), or DependencyTimeout after CHAT_DB_TIMEOUT.

    Shielded, and left to finish by itself past the deadline (or when the
    caller is cancelled): cancelled mid-statement, the pool would wait on a
    stalled connection to put it back, and so would the caller. `abandoned`
    is called with the statement's outcome once it has one.
    """
    # A task of its own with a plain future to wait on, where wait_for(shield())
    # would add a task, two futures and their callbacks to every statement.
    loop = asyncio.get_running_loop()
    query = loop.create_task(pgpool.execute(sql, params, all_rows=all_rows))
    answered = loop.create_future()
    wake = functools.partial(_wake, answered)
    query.add_done_callback(wake)
    timer = loop.call_later(settings.CHAT_DB_TIMEOUT, wake, None)
    start = time.perf_counter()
    try:
        await answered
    except asyncio.CancelledError:
        query.remove_done_callback(wake)
        query.add_done_callback(abandoned)
        raise
    finally:
        timer.cancel()
        metrics.DB_SECONDS.observe(time.perf_counter() - start)
    if not query.done():
        query.remove_done_callback(wake)
        query.add_done_callback(abandoned)
        raise DependencyTimeout(f"the database did not answer {what} in time")
    return query.result()


def _wake(answered: asyncio.Future, _query: asyncio.Future | None) -> None:
    if not answered.done():
        answered.set_result(None)


def _forget(query: asyncio.Future) -> None:
    # An abandoned read's outcome; its error was the caller's DependencyTimeout already.
    if not query.cancelled():
        query.exception()


def _announce_late(statement: services.SendStatement, write: asyncio.Future) -> None:
    """An abandoned send's outcome: if it stored the message, the room hears of
    it, and whoever is to be pushed is."""
    if write.cancelled() or write.exception() is not None:
        return  # nothing was stored
    try:
        message = statement.result(write.result())
    except (services.RoomNotFound, services.RoomForbidden, services.SendLimited, services.MessageNotFound,
            services.InvalidAttachment):
        return
    task = asyncio.ensure_future(events.message_created(message))
    _late.add(task)
    task.add_done_callback(_late.discard)
    push.message_stored(message, anyone_wants_all=statement.anyone_wants_all(write.result()))
    log.info("a send stored after its deadline was announced (%s #%s)", message["room"], message["seq"])
