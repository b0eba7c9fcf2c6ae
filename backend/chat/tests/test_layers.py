"""The pub/sub channel layer with lock-free group sends, against a real Redis."""

import asyncio

import redis.asyncio
from channels_redis.pubsub import RedisPubSubChannelLayer

from chat.layers import PubSubChannelLayer
from chat.tests.test_presence import (  # noqa: F401 (fixtures)
    redis_server,
    redis_url,
    second_redis_server,
    two_redis_urls,
)


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

        # In the order sent: one process's group sends share one pipelined connection (chat/redismux.py).
        assert [message["n"] for message in got[:50]] == list(range(50))
        assert got[50] == {"type": "room.frame", "n": "other"}
        # The layer's own group_send and ours meet on the same Redis channel.
        await stock_group_send(layer, "room.lobby", {"type": "room.frame", "n": "stock"})
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "room.frame", "n": "stock"}
    finally:
        await layer.flush()


async def stock_group_send(layer, group, message):
    """channels-redis' own group_send, which the subclass overrides."""
    await RedisPubSubChannelLayer.__getattr__(layer, "group_send")(group, message)


async def test_groups_spread_over_two_redis_servers_reach_a_channel_from_both(two_redis_urls):  # noqa: F811
    """REDIS_URLS: channels-redis hashes each group to one of its hosts; a
    process's one channel gets the groups of both, and a second process with the
    same list publishes to the same server for the same group."""
    hosts = [{"address": url, "socket_timeout": None} for url in two_redis_urls]
    layer, other = PubSubChannelLayer(hosts=hosts), PubSubChannelLayer(hosts=hosts)
    try:
        channel = await layer.new_channel()
        groups = [f"room.r{n}" for n in range(16)]
        for group in groups:
            await layer.group_add(group, channel)
        await asyncio.sleep(0.2)
        subscribed = []
        for url in two_redis_urls:
            async with redis.asyncio.Redis.from_url(url) as client:
                subscribed.append(set(await client.pubsub_channels()))
        assert all(len(channels) >= 2 for channels in subscribed), "groups on both servers"

        for n, group in enumerate(groups):
            await other.group_send(group, {"type": "room.frame", "n": n})
        got = [await asyncio.wait_for(layer.receive(channel), 5) for _ in groups]
        assert sorted(message["n"] for message in got) == list(range(16))
    finally:
        await layer.flush()
        await other.flush()
