"""The hot Redis calls pipelined over one connection per Redis and event loop.

Presence's and the socket registry's scripts and every group send's `PUBLISH`
go through here: a few per socket joining, one per message sent. redis-py
gives every call a pooled connection of its own for its round trip (it has no
pipelining of independent calls: redis/redis-py#3767), and each call pays for
taking and returning that connection, checking it, a write and a read of its
own: about 140 µs of CPU a call on this project's machine, where a call here
costs about 25 (a microbenchmark of concurrent script calls; the README's
Speed section says how it was taken). A call here is encoded and queued;
what the callers of one loop turn queued goes out in one write; Redis
answers a connection's commands in order, hiredis' C reader parses the
replies, and each one settles the future of the call that waits for it,
first come first served.

What a caller sees is what redis-py with `decode_responses=True` gives: text
as str, integers, lists; an error reply raises redis' ResponseError
(NoScriptError for NOSCRIPT, which `script` answers by sending the source);
a lost or unmakeable connection raises redis' ConnectionError. Nothing is
retried: a call whose connection broke may or may not have run, and its
caller handles an outage as it does any other (events.is_outage). The next
call opens a new connection.

Deadlines stay with the callers (deadlines.redis). A caller that gives up
leaves its place in the queue, and its reply is dropped when it comes. The
connection itself is dropped when its oldest call has waited `timeout`
(CHAT_REDIS_TIMEOUT) with no reply, as redis-py's socket timeout would: a
Redis that stalled and came back is met on a fresh connection.

Only `redis://` URLs (TCP, with a password and a database number if given);
`get_multiplexer` answers None for other schemes (`rediss://`, `unix://`),
and their callers use redis-py as before.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from contextvars import Context
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

import hiredis
from redis import exceptions

# How often an open connection looks for a call that waited past the timeout.
WATCH_EVERY = 0.5


def get_multiplexer(url: str, *, timeout: float) -> Multiplexer | None:
    """The running loop's multiplexer for `url`, or None where it does not speak the URL."""
    from chat.redis import per_loop_cache  # chat.redis imports this module

    multiplexers = per_loop_cache("multiplexers")
    key = (url, timeout)
    if key not in multiplexers:
        multiplexers[key] = Multiplexer(url, timeout=timeout) if speaks(url) else None
    return multiplexers[key]


def encode(args) -> bytes:
    """A command in RESP, as redis-py would send it (str as UTF-8, numbers as text)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, int) and not isinstance(arg, bool):
            data = b"%d" % arg
        elif isinstance(arg, float):
            data = repr(arg).encode()
        else:
            raise exceptions.DataError(f"cannot send {type(arg).__name__} to Redis")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _error(reply: exceptions.ResponseError) -> exceptions.ResponseError:
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return exceptions.NoScriptError(message)
    return reply


class _Connection(asyncio.Protocol):
    """One connection: calls queue their futures in order; replies settle them in order."""

    def __init__(self):
        self._loop = asyncio.get_running_loop()
        self._reader = hiredis.Reader(
            encoding="utf-8", replyError=exceptions.ResponseError, protocolError=exceptions.InvalidResponse
        )
        self._waiting: collections.deque[tuple[asyncio.Future, float]] = collections.deque()
        self._out: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._why: Exception | None = None  # why the connection was dropped
        self.closed = False

    def call(self, command: bytes) -> asyncio.Future:
        future = self._loop.create_future()
        if self.closed:
            future.set_exception(self._lost())
            return future
        self._waiting.append((future, self._loop.time()))
        self._out.append(command)
        if len(self._out) == 1:
            self._loop.call_soon(self._flush)
        return future

    def overdue(self, timeout: float) -> bool:
        return bool(self._waiting) and self._loop.time() - self._waiting[0][1] > timeout

    def drop(self, why: Exception) -> None:
        if not self.closed:
            self._why = why
            self.closed = True  # no more writes; connection_lost fails the calls waiting
            self._transport.abort()

    # ---- asyncio's side ----------------------------------------------------------

    def connection_made(self, transport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        reader, waiting = self._reader, self._waiting
        reader.feed(data)
        try:
            while (reply := reader.gets()) is not False:
                future = waiting.popleft()[0]
                if future.done():  # its caller gave up
                    continue
                if isinstance(reply, exceptions.ResponseError):
                    future.set_exception(_error(reply))
                else:
                    future.set_result(reply)
        except (exceptions.InvalidResponse, IndexError) as error:  # not RESP, or a reply nobody asked for
            self.drop(exceptions.ConnectionError(f"Redis connection dropped: {error!r}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._out.clear()
        while self._waiting:
            future = self._waiting.popleft()[0]
            if not future.done():
                future.set_exception(self._lost(exc))

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and not self.closed:
            self._transport.write(b"".join(out))

    def _lost(self, exc: Exception | None = None) -> Exception:
        if self._why is not None:
            return self._why
        return exceptions.ConnectionError(f"Redis connection lost{f': {exc}' if exc else ''}")


class Address(NamedTuple):
    """What a `redis://` URL names."""

    host: str
    port: int
    username: str | None
    password: str | None
    db: int

    @classmethod
    def of(cls, url: str) -> Address:
        parts = urlsplit(url)
        path = parts.path.strip("/")
        return cls(
            host=parts.hostname or "localhost", port=parts.port or 6379,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            db=int(path) if path else 0,
        )

    def auth(self) -> tuple[str, ...] | None:
        """The AUTH command the URL asks for, if any."""
        if self.password is None:
            return None
        return ("AUTH", self.username, self.password) if self.username else ("AUTH", self.password)


async def open_connection(protocol_factory, address: Address, timeout: float):
    """A connection to `address` with the protocol made by `protocol_factory`; redis'
    ConnectionError or TimeoutError when there is none within `timeout`."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, protocol = await loop.create_connection(protocol_factory, address.host, address.port)
    except TimeoutError:
        raise exceptions.TimeoutError(f"no connection to Redis at {address.host}:{address.port} in time") from None
    except OSError as error:
        raise exceptions.ConnectionError(f"no connection to Redis at {address.host}:{address.port}: {error}") from None
    return protocol


def speaks(url: str) -> bool:
    """Whether this module's connections speak `url` (TCP `redis://`)."""
    return urlsplit(url).scheme == "redis"


class Multiplexer:
    """Calls to one Redis from one event loop, over one connection at a time."""

    def __init__(self, url: str, *, timeout: float):
        self.address = Address.of(url)
        self.timeout = timeout
        self._connection: _Connection | None = None
        self._connecting: asyncio.Future | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._shas: dict[str, str] = {}

    async def execute(self, *args):
        """One command's reply."""
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._connect()
        return await connection.call(encode(args))

    async def script(self, source: str, keys=(), args=()):
        """A Lua script's reply: EVALSHA, and EVAL where Redis does not hold it (yet, or any more)."""
        sha = self._shas.get(source)
        if sha is None:
            sha = self._shas[source] = hashlib.sha1(source.encode()).hexdigest()
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except exceptions.NoScriptError:
            return await self.execute("EVAL", source, len(keys), *keys, *args)

    def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._connection is not None:
            self._connection.drop(exceptions.ConnectionError("the Redis multiplexer was closed"))
            self._connection = None

    # ---- the connection ----------------------------------------------------------

    async def _connect(self) -> _Connection:
        # One attempt at a time, shared by every caller meanwhile; shielded, so
        # that a caller's deadline does not cancel the others' connection.
        if self._connecting is None:
            # In a context of its own: the connection serves every socket, not the
            # one whose call happened to open it (config/logs.py binds sockets to contexts).
            self._connecting = asyncio.get_running_loop().create_task(self._open(), context=Context())
            self._connecting.add_done_callback(self._connected)
        return await asyncio.shield(self._connecting)

    def _connected(self, attempt: asyncio.Future) -> None:
        self._connecting = None
        if not attempt.cancelled() and attempt.exception() is None:
            self._connection = attempt.result()
            if self._watch is None:
                self._watch = asyncio.get_running_loop().call_later(WATCH_EVERY, self._look_for_a_stall)

    async def _open(self) -> _Connection:
        connection = await open_connection(_Connection, self.address, self.timeout)
        handshake = []
        auth = self.address.auth()
        if auth is not None:
            handshake.append(connection.call(encode(auth)))
        if self.address.db:
            handshake.append(connection.call(encode(("SELECT", self.address.db))))
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.gather(*handshake)
        except BaseException as error:
            connection.drop(exceptions.ConnectionError(f"Redis refused the connection's set-up: {error}"))
            if isinstance(error, TimeoutError):
                raise exceptions.TimeoutError("Redis did not answer the connection's set-up in time") from None
            raise
        return connection

    def _look_for_a_stall(self) -> None:
        connection = self._connection
        if connection is None or connection.closed:
            self._watch = None  # the next connection starts it again
            return
        if connection.overdue(self.timeout):
            connection.drop(exceptions.TimeoutError(f"Redis did not answer within {self.timeout:g} s"))
        self._watch = asyncio.get_running_loop().call_later(WATCH_EVERY, self._look_for_a_stall)
