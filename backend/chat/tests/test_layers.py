"""The pub/sub channel layer with lock-free group sends, against a real Redis."""

import asyncio

from channels_redis.pubsub import RedisPubSubChannelLayer

from chat.layers import PubSubChannelLayer
from chat.tests.test_presence import redis_server, redis_url  # noqa: F401 (fixtures)


async def test_group_sends_reach_the_group_in_order_and_side_by_side(redis_url):  # noqa: F811
    layer = PubSubChannelLayer(hosts=[{"address": redis_url, "socket_timeout": None}])
    try:
        channel = await layer.new_channel()
        await layer.group_add("room.lobby", channel)
        await layer.group_add("room.other", channel)
        await asyncio.sleep(0.1)  # SUBSCRIBE is not answered before it returns

        # Many at once: none waits for another's answer behind a lock.
        await asyncio.gather(*(layer.group_send("room.lobby", {"type": "room.frame", "n": n}) for n in range(50)))
        await layer.group_send("room.other", {"type": "room.frame", "n": "other"})
        got = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(51)]

        assert sorted(message["n"] for message in got[:50]) == list(range(50))
        assert got[50] == {"type": "room.frame", "n": "other"}
        # The layer's own group_send and ours meet on the same Redis channel.
        await stock_group_send(layer, "room.lobby", {"type": "room.frame", "n": "stock"})
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "room.frame", "n": "stock"}
    finally:
        await layer.flush()


async def stock_group_send(layer, group, message):
    """channels-redis' own group_send, which the subclass overrides."""
    await RedisPubSubChannelLayer.__getattr__(layer, "group_send")(group, message)
