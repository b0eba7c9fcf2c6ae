"""The two statements of every socket's everyday traffic, on the event loop.

On PostgreSQL a `send` (services.SendStatement) and a `join` of an existing
room (services.EnterStatement) are one statement each, run through psycopg's
async driver and a small pool of this process's own connections: no thread
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
import weakref
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone
from psycopg import AsyncConnection, IntegrityError
from psycopg_pool import AsyncConnectionPool

from chat import events, metrics, selectors, services
from chat.deadlines import DependencyTimeout, db
from chat.notifications import push
from chat.selectors import MessageDict

log = logging.getLogger(__name__)

# Connections per process: each holds a statement of a send, a join or a
# handshake for about a millisecond, and PostgreSQL orders a room's sends by
# its row lock anyway.
POOL_SIZE = 4

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future] = weakref.WeakKeyDictionary()
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
    if not on_event_loop():
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
    except IntegrityError:
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
    *, user: Any, name: str, since: int | None, create: bool, since_rev: int | None = None
) -> tuple[list[MessageDict], bool, int]:
    """services.room_enter within CHAT_DB_TIMEOUT, as DependencyTimeout past it:
    (messages, has_more, the room's rev)."""
    if not on_event_loop():
        return await db(services.room_enter)(user=user, name=name, since=since, create=create, since_rev=since_rev)
    if create:
        services.refuse_dm_name(name)
        # Made if missing (one statement, not the ORM's get_or_create in a thread:
        # a connect storm's first joins make many rooms at once); the join's own
        # statement then checks it as any room (another's private room: forbidden).
        await read(services.ROOM_MAKE_SQL, {"name": name, "now": timezone.now()}, what="a new room")
    statement = services.EnterStatement(user=user, name=name, since=since, since_rev=since_rev)
    return statement.result(await read(statement.sql, statement.params, all_rows=True, what="a join"))


def on_event_loop() -> bool:
    """True where this module runs statements on the event loop (PostgreSQL)."""
    # The setting, not connections["default"].vendor: that is a thread-local
    # lookup (asgiref's Local), 2 % of a send's CPU.
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


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
    query = loop.create_task(_execute(sql, params, all_rows=all_rows))
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


async def _execute(sql: str, params: dict | list, *, all_rows: bool = False):
    pool, turns = await _pool()
    # Our own queue in front of the pool's: a semaphore's waiter is one future,
    # the pool's is a condition and a task each, and with a hundred handshakes
    # at once most statements wait for one of its few connections.
    async with turns, pool.connection() as connection:
        cursor = await connection.execute(sql, params)
        return await (cursor.fetchall() if all_rows else cursor.fetchone())


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


async def _pool() -> tuple[AsyncConnectionPool, asyncio.Semaphore]:
    loop = asyncio.get_running_loop()
    opening = _pools.get(loop)
    if opening is None:
        opening = _pools[loop] = asyncio.ensure_future(_open_pool())
    elif opening.done():
        return opening.result()
    # Shielded: a caller cancelled meanwhile must not cancel every other caller's pool.
    return await asyncio.shield(opening)


async def _open_pool() -> tuple[AsyncConnectionPool, asyncio.Semaphore]:
    pool = AsyncConnectionPool(
        kwargs=_connection_params(), min_size=1, max_size=POOL_SIZE, open=False, configure=_configure,
        name="chat-store",
    )
    await pool.open()
    return pool, asyncio.Semaphore(POOL_SIZE)


# This pool runs four statements (a send, a join, a session and its user), each
# thousands of times: prepared from their second run on, and planned once, not
# at every run. Django turns prepared statements off for every connection (for
# PgBouncer's transaction mode before 1.21), and PostgreSQL re-plans a prepared
# statement whose generic plan it guesses dearer than a custom one, which it
# does for the send: 0.85 ms of planning for 0.3 ms of work. Each of the four
# finds its rows by index whatever its parameters (chat/tests/test_store.py
# checks the send's generic plan), so their generic plans are forced.
PREPARE_THRESHOLD = 2
PLAN_CACHE_MODE = "force_generic_plan"


def _connection_params() -> dict:
    # Django's own parameters for this database (host, name, user, options,
    # its type adapters); the cursor class is the sync one, not ours.
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params["prepare_threshold"] = PREPARE_THRESHOLD
    return params


async def _configure(connection: AsyncConnection) -> None:
    # Like every connection of the serving process (deadlines.limit_statements).
    await connection.set_autocommit(True)
    await connection.execute(
        "SELECT set_config('statement_timeout', %s, false), set_config('plan_cache_mode', %s, false)",
        [f"{settings.CHAT_DB_TIMEOUT:g}s", PLAN_CACHE_MODE],
    )


async def close_pool() -> None:
    """Closes the running loop's pool, if it has one (tests, shutdown)."""
    opening = _pools.pop(asyncio.get_running_loop(), None)
    if opening is not None:
        pool, _turns = await opening
        await pool.close()
