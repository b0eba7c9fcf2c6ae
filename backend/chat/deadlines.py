"""Every call the server makes to the database or to Redis has a deadline.

A stalled dependency costs a request a `server_error` (or, for what may fail
open, nothing), never a frozen socket:

- `db(function)` is the async form of a database function, abandoned after
  CHAT_DB_TIMEOUT. Abandoned, not stopped: its thread waits on for the answer,
  and the database's own timeouts end that wait (PostgreSQL's statement_timeout,
  set on every connection of the serving process by `limit_statements`, and
  connect_timeout; SQLite's busy timeout).
- `redis(awaitable)` is abandoned after CHAT_REDIS_TIMEOUT. A timeout marks Redis
  as stalled for REDIS_STALL_COOLDOWN seconds, during which further calls fail
  at once instead of each waiting out its own timeout: under a hung Redis a
  `send` waits once, not once per Redis call, and not for the whole outage.
  The channel layer's blocking receive (the hub's loop) is not wrapped: it is
  meant to wait.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from channels.db import database_sync_to_async
from django.conf import settings

from chat import metrics

T = TypeVar("T")

# After a Redis call times out, calls fail at once for this long; then one is
# let through to try again. Short enough that a recovered Redis is used again
# within a heartbeat, long enough to spare most requests the wait.
REDIS_STALL_COOLDOWN = 3.0


class DependencyTimeout(TimeoutError):
    """A database or Redis call did not answer in time (an outage, not a bug)."""


# ---- the database ---------------------------------------------------------------


@functools.cache
def _serial_database() -> bool:
    # SQLite takes one writer at a time anyway, and its shared-cache test
    # database locks whole tables: keep Channels' one database thread there.
    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def db(function: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """`function` run in a database thread, given at most CHAT_DB_TIMEOUT seconds."""
    # Elsewhere (PostgreSQL) sockets' queries run side by side in the thread
    # pool instead of queueing on one thread for the whole process.
    threaded = database_sync_to_async(function, thread_sensitive=_serial_database())

    @functools.wraps(function)
    async def call(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await asyncio.wait_for(threaded(*args, **kwargs), settings.CHAT_DB_TIMEOUT)
        except TimeoutError:
            raise DependencyTimeout(f"the database did not answer {function.__name__} in time") from None
        finally:
            metrics.DB_SECONDS.observe(time.perf_counter() - start)

    return call


def limit_statements(sender, connection, **kwargs) -> None:
    """connection_created receiver: PostgreSQL cancels a statement of the serving
    process that runs longer than CHAT_DB_TIMEOUT (management commands are not
    limited; config.asgi connects this)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{settings.CHAT_DB_TIMEOUT:g}s"])


# ---- Redis ----------------------------------------------------------------------

_stalled_until = 0.0


async def redis(awaitable: Awaitable[T], what: str = "a Redis call") -> T:
    """Awaits a Redis call for at most CHAT_REDIS_TIMEOUT seconds."""
    global _stalled_until
    if time.monotonic() < _stalled_until:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never started: no "was never awaited" warning
        raise DependencyTimeout(f"{what}: Redis stalled a moment ago")
    start = time.perf_counter()
    try:
        # asyncio.timeout, not wait_for: the call runs in the caller's task, not in a
        # task of its own with a future and a timer of wait_for's (3.11) besides.
        async with asyncio.timeout(settings.CHAT_REDIS_TIMEOUT):
            return await awaitable
    except TimeoutError:
        _stalled_until = time.monotonic() + REDIS_STALL_COOLDOWN
        raise DependencyTimeout(f"{what}: Redis did not answer in time") from None
    finally:
        metrics.REDIS_SECONDS.observe(time.perf_counter() - start)


def redis_recovered() -> None:
    """Forget a stall (tests; a call known to have succeeded since)."""
    global _stalled_until
    _stalled_until = 0.0
