"""The two statements of every socket's everyday traffic, on the event loop.

On PostgreSQL a `send` (services.SendStatement) and a `join` of an existing
room (services.EnterStatement) are one statement each, run through asyncpg
and a small pool of this process's own connections (below): no thread
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
import json
import logging
import re
import shlex
import time
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import asyncpg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.utils import timezone

from chat import events, metrics, selectors, services
from chat.deadlines import DependencyTimeout, db
from chat.notifications import push
from chat.selectors import MessageDict

log = logging.getLogger(__name__)

# Connections per process: each holds a statement of a send, a join or a
# handshake for about a millisecond, and PostgreSQL orders a room's sends by
# its row lock anyway.
POOL_SIZE = 4

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pool] = weakref.WeakKeyDictionary()
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
    if not on_event_loop():
        return await db(services.room_enter)(user=user, name=name, since=since, since_rev=since_rev)
    statement = services.EnterStatement(user=user, name=name, since=since, since_rev=since_rev)
    return statement.result(await read(statement.sql, statement.params, all_rows=True, what="a join"))


async def room_make(*, name: str) -> bool:
    """services.room_make within CHAT_DB_TIMEOUT: a new public room unless one of
    that name exists, and whether this call made it (two sockets joining a new
    name at once both come here; only the one that made it announces it)."""
    if not on_event_loop():
        return await db(services.room_make)(name=name)
    services.refuse_dm_name(name)
    # One statement, not the ORM's get_or_create in a thread: a connect storm's
    # first joins make many rooms at once. The join's own statement then checks
    # the room as any other (another's private room of that name: forbidden).
    made = await read(services.ROOM_MAKE_SQL, {"name": name, "now": timezone.now()}, what="a new room")
    return made is not None


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
    pool = _pool()
    text, names = _numbered(sql)
    args = [params[name] for name in names] if names else params
    return await pool.run(text, args, all_rows=all_rows)


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


# ---- the pool ----------------------------------------------------------------


def _pool() -> _Pool:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = _Pool(functools.partial(_connect, _connect_kwargs()))
    return pool


class _Pool:
    """POOL_SIZE asyncpg connections of this process, made as needed.

    asyncpg rather than psycopg for these few statements: psycopg's async
    driver hands its socket to the event loop at every wait (under uvloop a
    poll handle made and closed each time, a dozen system calls a statement),
    where asyncpg's protocol is the loop's once per connection. A statement
    of the send's shape costs about 80 µs of this process's CPU with asyncpg
    and 200 with psycopg's pool. asyncpg's own pool resets every connection it
    takes back (a round trip) and costs about 55 µs a statement more; these
    statements leave nothing to reset (no transaction, no session state), so
    this one is a list and a semaphore.
    """

    def __init__(self, connect: Callable[[], Any]):
        self._connect = connect
        self._idle: list[asyncpg.Connection] = []
        # A semaphore's waiter is one future; with a hundred handshakes at
        # once most statements wait for one of the few connections.
        self._turns = asyncio.Semaphore(POOL_SIZE)
        self._closed = False

    async def run(self, sql: str, args: list, *, all_rows: bool):
        async with self._turns:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                if all_rows:
                    result = await connection.fetch(sql, *args)
                else:
                    result = await connection.fetchrow(sql, *args)
            except asyncpg.PostgresError:
                self._put_back(connection)  # the server refused the statement; the connection is fine
                raise
            except BaseException:
                # Lost, or cut off mid-statement: not to be used again.
                connection.terminate()
                raise
            self._put_back(connection)
            return result

    def _put_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            connection.terminate()
        else:
            self._idle.append(connection)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close(timeout=settings.CHAT_DB_TIMEOUT)


@functools.lru_cache(maxsize=64)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """psycopg's placeholders as PostgreSQL's own: `%(name)s` numbered in the
    order names first appear, `%s` in order, `%%` a percent sign. The SQL, and
    the names in their numbers' order (empty for `%s`: the parameters are a list)."""
    names: list[str] = []
    count = 0

    def number(match: re.Match) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name is None:
            count += 1
            return f"${count}"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    text = re.sub(r"%%|%\((\w+)\)s|%s", number, sql)
    if names and count:
        raise ValueError("a statement mixes named and positional placeholders")
    return text, tuple(names)


# These statements (a send, a join, a room made, a session and its user) run
# thousands of times: asyncpg prepares each on a connection once, and
# PostgreSQL is told to plan each once too. Left to choose, it re-plans a
# prepared statement whose generic plan it guesses dearer than a custom one,
# which it does for the send: 0.85 ms of planning for 0.3 ms of work.
#
# A plan made once is kept for the connection's life, so it must not depend
# on the tables' size when it was made: a send planned while its tables were
# small (a new install, a bench's fresh database) read all of chat_message for
# its reply target and all of chat_room for its room, at every send, for as
# long as the connection lived; at 10,000 messages that was a millisecond of
# PostgreSQL's CPU a send. Each statement finds its rows by index whatever its
# parameters (chat/tests/test_store.py checks the generic plans, made on
# near-empty tables), so sequential scans are ruled out for these connections.
PLANNER_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}

# Django's connection parameters (libpq's names) that asyncpg takes in a DSN's
# query; Django's own ones that mean nothing here are left out.
_DSN_PARAMETERS = {"sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword", "passfile",
                   "target_session_attrs", "krbsrvname", "gsslib", "service"}
_DJANGO_ONLY = {"cursor_factory", "context", "prepare_threshold", "client_encoding", "server_side_binding"}


def check_settings() -> None:
    """ImproperlyConfigured now (the server's start), not at the first socket,
    for database options the pool cannot pass on to asyncpg."""
    if on_event_loop():
        _connect_kwargs()


def _connect_kwargs() -> dict:
    """asyncpg's arguments for Django's own database settings (host, name,
    user, password, OPTIONS), and this process's statement settings."""
    params = dict(connections["default"].get_connection_params())
    for name in _DJANGO_ONLY:
        params.pop(name, None)
    server_settings = {
        "statement_timeout": f"{round(settings.CHAT_DB_TIMEOUT * 1000)}ms",  # as deadlines.limit_statements
        **PLANNER_SETTINGS,
    }
    if "application_name" in params:
        server_settings["application_name"] = params.pop("application_name")
    for option in shlex.split(params.pop("options", "") or ""):  # libpq's `-c name=value`
        if option != "-c":
            name, _, value = option.removeprefix("-c").partition("=")
            server_settings[name.strip()] = value
    kwargs = {
        "host": params.pop("host", None), "port": params.pop("port", None), "user": params.pop("user", None),
        "password": params.pop("password", None), "database": params.pop("dbname", None),
        "timeout": float(params.pop("connect_timeout", None) or settings.CHAT_DB_TIMEOUT),
        "server_settings": server_settings,
    }
    query = {name: str(params.pop(name)) for name in list(params) if name in _DSN_PARAMETERS}
    if params:
        raise ImproperlyConfigured(f"chat.store cannot pass these database options to asyncpg: {sorted(params)}")
    if query:
        kwargs["dsn"] = "postgresql://?" + urlencode(query)
    return kwargs


async def _connect(kwargs: dict) -> asyncpg.Connection:
    connection = await asyncpg.connect(**kwargs)
    # Rows as psycopg and the ORM give them: json parsed, not text.
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, schema="pg_catalog", encoder=json.dumps, decoder=json.loads)
    return connection


async def close_pool() -> None:
    """Closes the running loop's pool, if it has one (tests, shutdown)."""
    pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.close()
