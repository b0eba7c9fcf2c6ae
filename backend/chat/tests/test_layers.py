"""The pub/sub channel layer with lock-free group sends, against a real Redis."""

import asyncio
import time

import pytest
import redis
import redis.asyncio
from channels_redis.pubsub import RedisPubSubChannelLayer

from chat.layers import PubSubChannelLayer, SubscribedShard
from chat.tests.test_presence import (  # noqa: F401 (fixtures)
    redis_server,
    redis_url,
    second_redis_server,
    two_redis_urls,
)
from tests.harness import RedisServer


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


# ---- the subscribed connection (SubscribedShard) -------------------------------------------


async def publish_until_received(layer, channel, group, deadline: float) -> dict:
    """Publishes to `group` from another client until `channel` gets one: live frames
    published while the layer is not subscribed again are lost, as designed. One
    receive throughout, as the hub's: a cancelled receive unsubscribes its channel."""
    loop_layer = layer._get_layer()
    receiving = asyncio.ensure_future(layer.receive(channel))
    try:
        async with redis.asyncio.Redis.from_url(loop_layer._shards[0].host["address"]) as other:
            n = 0
            while not receiving.done():
                assert time.monotonic() < deadline, "never subscribed again"
                n += 1
                await other.publish(loop_layer._get_group_channel_name(group), layer.serialize({"type": "t", "n": n}))
                await asyncio.wait({receiving}, timeout=0.2)
        return receiving.result()
    finally:
        receiving.cancel()


async def test_a_shard_subscribes_again_by_itself_after_a_redis_restart(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    layer = PubSubChannelLayer(hosts=[{"address": server.url, "socket_timeout": None}])
    try:
        channel = await layer.new_channel()
        await layer.group_add("room.lobby", channel)
        assert isinstance(layer._get_layer()._shards[0], SubscribedShard)
        await publish_until_received(layer, channel, "room.lobby", time.monotonic() + 5)

        server.stop()  # forgets every subscription
        await asyncio.sleep(0.3)
        server.start()  # the same port
        # No group_add since: the shard's own reconnection subscribed everything again.
        got = await publish_until_received(layer, channel, "room.lobby", time.monotonic() + 5)
        assert got["type"] == "t"
    finally:
        await layer.flush()
        server.stop()


async def test_a_subscription_refused_while_redis_is_away_is_made_when_the_group_is_added_again(tmp_path):
    server = RedisServer(tmp_path)  # not started yet
    layer = PubSubChannelLayer(hosts=[{"address": server.url, "socket_timeout": None}])
    try:
        with pytest.raises(redis.ConnectionError):
            await layer.new_channel()
        channel = next(iter(layer._get_layer().channels))  # its queue is kept though Redis was away
        with pytest.raises(redis.ConnectionError):
            await layer.group_add("room.lobby", channel)
        server.start()
        # The hub's heartbeat adds every group again, the same ones: that connects
        # and subscribes everything, though the shard counts them subscribed already.
        await layer.group_add("room.lobby", channel)
        got = await publish_until_received(layer, channel, "room.lobby", time.monotonic() + 5)
        assert got["type"] == "t"
    finally:
        await layer.flush()
        server.stop()
