"""The channel layer: channels-redis' pub/sub layer, with group sends side by side.

channels-redis 4.3's pub/sub layer sends every PUBLISH, SUBSCRIBE and
UNSUBSCRIBE of a process through one lock per Redis host, and a PUBLISH holds
it until Redis answers. Under a join storm (every client of a restarted server
coming back at once) hundreds of presence frames queue on that lock, past the
Redis deadline, and are dropped as if Redis had stalled (bench S5). A group
send needs no lock: the shard's client has a connection pool, so here it
publishes straight through that client, in the same message format and on
the same Redis channel as the layer's own group_send: over the process's
pipelined connection to that Redis (chat/redismux.py) where the shard's
address is a `redis://` URL, through the shard's client otherwise.
Subscriptions keep the lock, which they need (the set of subscribed channels).

It leans on two private names of channels-redis (`_get_group_channel_name`,
the shard's `_redis` client), which is why pyproject pins channels-redis to
4.3; chat/tests/test_layers.py fails if they change.
"""

from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from chat.redismux import get_multiplexer


class PubSubChannelLayer(RedisPubSubChannelLayer):
    async def group_send(self, group: str, message: dict) -> None:
        layer = self._get_layer()
        channel = layer._get_group_channel_name(group)
        shard = layer._get_shard(channel)
        address = shard.host.get("address") if isinstance(shard.host, dict) else None
        multiplexer = get_multiplexer(address, timeout=settings.CHAT_REDIS_TIMEOUT) if isinstance(address, str) else None
        if multiplexer is not None:  # pipelined with the process's other hot calls
            await multiplexer.execute("PUBLISH", channel, self.serialize(message))
            return
        shard._ensure_redis()
        await shard._redis.publish(channel, self.serialize(message))

    async def subscribers(self, group: str) -> int:
        """How many connections, over all processes, listen to `group` (its
        Redis channel's PUBSUB NUMSUB): each process's layer has one per shard."""
        layer = self._get_layer()
        channel = layer._get_group_channel_name(group)
        shard = layer._get_shard(channel)
        shard._ensure_redis()
        [(_, count)] = await shard._redis.pubsub_numsub(channel)
        return int(count)
