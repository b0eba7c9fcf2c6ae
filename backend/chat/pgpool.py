"""This process's own PostgreSQL connections, for the few statements that run
on the event loop (chat/store.py's send and join, chat/session.py's
handshake reads): asyncpg, a small pool a loop, prepared statements with
generic plans, and the server settings every connection gets.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import shlex
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import asyncpg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

# Connections per process: each holds a statement of a send, a join or a
# handshake for about a millisecond, and PostgreSQL orders a room's sends by
# its row lock anyway.
POOL_SIZE = 4

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pool] = weakref.WeakKeyDictionary()


def on_event_loop() -> bool:
    """True where the send, the join and the handshake's reads run here, on the
    event loop (PostgreSQL); elsewhere they are services functions in a thread."""
    # The setting, not connections["default"].vendor: that is a thread-local
    # lookup (asgiref's Local), 2 % of a send's CPU.
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


async def execute(sql: str, params: dict | list, *, all_rows: bool = False):
    """The statement's first row (None if none), or all its rows; `sql` with
    psycopg's placeholders (`%(name)s` and a dict, or `%s` and a list)."""
    pool = _pool()
    text, names = numbered(sql)
    args = [params[name] for name in names] if names else params
    return await pool.run(text, args, all_rows=all_rows)


def _pool() -> _Pool:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = _Pool(functools.partial(_connect, connect_kwargs()))
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
def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
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
# long as the connection lived; with about 10,000 messages that was 0.4 ms
# more of PostgreSQL's CPU a send (S3). Each statement finds its rows by index
# whatever its parameters (chat/tests/test_store.py checks the generic plans,
# made on near-empty tables), so sequential scans are ruled out for these
# connections.
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
        connect_kwargs()


def connect_kwargs() -> dict:
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
        raise ImproperlyConfigured(f"chat.pgpool cannot pass these database options to asyncpg: {sorted(params)}")
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
