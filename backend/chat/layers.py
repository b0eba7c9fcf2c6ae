"""The channel layer: channels-redis' pub/sub layer, with group sends side by
side and each shard's subscriptions on a connection of our own.

channels-redis 4.3's pub/sub layer sends every PUBLISH, SUBSCRIBE and
UNSUBSCRIBE of a process through one lock per Redis host, and a PUBLISH holds
it until Redis answers. Under a join storm (every client of a restarted server
coming back at once) hundreds of presence frames queue on that lock, past the
Redis deadline, and are dropped as if Redis had stalled (bench S5). A group
send needs no lock: it is published straight through the process's pipelined
connection to that Redis (chat/redismux.py), in the same message format and on
the same Redis channel as the layer's own group_send.

Receiving: the layer polls redis-py's PubSub (`get_message` with a 0.1 s
timeout, through its retry and health-check wrappers, then a dict per
message), about a tenth of a small room's server CPU per delivered message
(bench S1 profile). Here each shard whose address is a `redis://` URL keeps
one subscribed connection whose pushes hiredis parses as they arrive, handed
to the layer's own routing (`_receive_message`: the queue of each local
channel of the group). Subscriptions keep the layer's lock, which they need
(the set of subscribed channels). A lost connection is made again, and
everything subscribed is subscribed again, within a second while Redis is
back; what was published meanwhile is lost, as with the stock layer (live
frames are best effort), and whoever watches the layer
(`watch_resubscriptions`: the hub, chat/catchup.py) is told when the
connection was lost, once it is subscribed again. Other addresses keep
channels-redis' own shard.

It leans on private names of channels-redis (`_get_layer`, `_shards`,
`_get_group_channel_name`, `_get_shard`, the shard's `host`, `_lock`,
`_subscribed_to` and `_receive_message`), which is why pyproject pins
channels-redis to 4.3; chat/tests/test_layers.py fails if they change.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from contextvars import Context

import hiredis
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisSingleShardConnection
from django.conf import settings
from redis import exceptions

from chat.redismux import Address, encode, get_multiplexer, open_connection, speaks

log = logging.getLogger(__name__)

# Between tries to subscribe again after the connection was lost.
RECONNECT_DELAYS = (0.05, 0.25, 0.5, 1.0)


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        layer = super()._get_layer()
        if not getattr(layer, "chat_shards", False):  # once per loop's layer
            layer._shards = [_our_shard(shard, layer) for shard in layer._shards]
            layer.chat_shards = True
        return layer

    def watch_resubscriptions(self, callback: Callable[[float], None]) -> None:
        """`callback(lost_at)` each time a shard of this loop's layer is subscribed
        again after losing its connection at `lost_at` (a Unix time)."""
        self._get_layer().chat_resubscribed = callback

    async def group_send(self, group: str, message: dict) -> None:
        channel, shard, multiplexer = self._route(group)
        if multiplexer is not None:  # pipelined with the process's other hot calls
            await multiplexer.execute("PUBLISH", channel, self.serialize(message))
            return
        shard._ensure_redis()
        await shard._redis.publish(channel, self.serialize(message))

    async def subscribers(self, group: str) -> int:
        """How many connections, over all processes, listen to `group` (its
        Redis channel's PUBSUB NUMSUB): each process's layer has one per shard."""
        channel, shard, multiplexer = self._route(group)
        if multiplexer is not None:
            _, count = await multiplexer.execute("PUBSUB", "NUMSUB", channel)
            return int(count)
        shard._ensure_redis()
        [(_, count)] = await shard._redis.pubsub_numsub(channel)
        return int(count)

    def _route(self, group: str):
        """The group's Redis channel, its shard, and the multiplexer to reach it
        (None where chat/redismux.py does not speak the shard's address)."""
        layer = self._get_layer()
        channel = layer._get_group_channel_name(group)
        shard = layer._get_shard(channel)
        if not isinstance(shard, SubscribedShard):  # an address chat/redismux.py does not speak
            return channel, shard, None
        return channel, shard, get_multiplexer(shard.url, timeout=settings.CHAT_REDIS_TIMEOUT)


def _our_shard(shard, layer):
    """A SubscribedShard where the shard's address is a `redis://` URL; else the shard."""
    url = shard.host.get("address") if isinstance(shard.host, dict) else None
    return SubscribedShard(shard.host, layer, url) if isinstance(url, str) and speaks(url) else shard


class _Pushes(asyncio.Protocol):
    """A subscribed connection: Redis pushes ["message", channel, data]."""

    def __init__(self, shard: SubscribedShard):
        self._shard = shard
        self._reader = hiredis.Reader()  # bytes: the data is msgpack
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        try:
            while (push := reader.gets()) is not False:
                if isinstance(push, list) and len(push) == 3 and push[0] == b"message":
                    self._shard._receive_message({"channel": push[1].decode(), "data": push[2]})
                elif isinstance(push, hiredis.ReplyError):  # AUTH refused, say
                    log.error("Redis refused a subscription command: %s", push)
                    self.transport.abort()
                # else a (un)subscribe confirmation
        except hiredis.ProtocolError as error:
            log.error("not RESP from Redis on the subscribed connection: %s", error)
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._shard.lost(self)


class SubscribedShard(RedisSingleShardConnection):
    """A shard whose subscriptions live on a connection of our own (see above)."""

    def __init__(self, host, channel_layer, url: str):
        super().__init__(host, channel_layer)
        self.url = url
        self.address = Address.of(url)
        self._pushes: _Pushes | None = None
        self._reconnect: asyncio.Task | None = None
        self._lost_at: float | None = None  # the subscribed connection was lost then, and is not back

    async def subscribe(self, channel):
        async with self._lock:
            if channel in self._subscribed_to and self._pushes is not None:
                return
            # Also when subscribed but not connected (the connection could not be
            # made again yet): the hub's heartbeat re-adds every group.
            self._subscribed_to.add(channel)
            if self._pushes is None:
                await self._connect()  # subscribes to everything, this channel included
            else:
                self._pushes.transport.write(encode(("SUBSCRIBE", channel)))

    async def unsubscribe(self, channel):
        async with self._lock:
            if channel in self._subscribed_to:
                self._subscribed_to.remove(channel)
                if self._pushes is not None:  # else the next connection leaves it out
                    self._pushes.transport.write(encode(("UNSUBSCRIBE", channel)))

    async def flush(self):
        async with self._lock:
            if self._reconnect is not None:
                self._reconnect.cancel()
                self._reconnect = None
            pushes, self._pushes = self._pushes, None
            if pushes is not None and pushes.transport is not None:
                pushes.transport.abort()
            self._subscribed_to = set()
            self._lost_at = None

    def lost(self, pushes: _Pushes) -> None:
        """The connection closed: subscribe again on a new one (unless flushed)."""
        if pushes is not self._pushes:
            return
        self._pushes = None
        if self._lost_at is None:
            self._lost_at = time.time()
        if self._subscribed_to and self._reconnect is None:
            # In a context of its own: it serves every socket, and its log lines name none.
            self._reconnect = asyncio.get_running_loop().create_task(self._subscribe_again(), context=Context())

    async def _connect(self) -> None:
        # Opened in a context of its own, whichever socket's join asked first: the
        # connection's callbacks (and what they log) belong to no socket.
        opening = open_connection(lambda: _Pushes(self), self.address, settings.CHAT_REDIS_TIMEOUT)
        pushes = await asyncio.get_running_loop().create_task(opening, context=Context())
        auth = self.address.auth()
        commands = [encode(auth)] if auth else []
        if self._subscribed_to:
            commands.append(encode(("SUBSCRIBE", *self._subscribed_to)))
        pushes.transport.write(b"".join(commands))
        if pushes.closed:  # lost before it was ours: lost() did not know to make it again
            raise exceptions.ConnectionError(f"Redis at {self.address.host}:{self.address.port} closed the connection")
        self._pushes = pushes
        if self._lost_at is not None:  # subscribed again, by this task or by a join's subscribe
            lost_at, self._lost_at = self._lost_at, None
            watcher = getattr(self.channel_layer, "chat_resubscribed", None)
            if watcher is not None:
                watcher(lost_at)

    async def _subscribe_again(self) -> None:
        try:
            for attempt in itertools.count():
                await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                async with self._lock:
                    if self._pushes is not None or not self._subscribed_to:
                        return
                    try:
                        await self._connect()
                        return
                    except exceptions.RedisError as error:
                        if attempt == 0:
                            log.warning("subscribing again to Redis at %s:%s failed: %s; trying on",
                                        self.address.host, self.address.port, error)
        finally:
            if self._reconnect is asyncio.current_task():  # not a newer one, after a flush
                self._reconnect = None
