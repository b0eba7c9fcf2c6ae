"""The process's Redis client (chat/redis.py) on a redis-server of its own."""

import asyncio

import redis

from chat.redis import CONNECTIONS, get_redis
from chat.tests.test_presence import redis_server  # noqa: F401 (a redis-server of this module's own)


def connected_clients(probe: redis.Redis) -> int:
    return int(probe.info("clients")["connected_clients"]) - 1  # not the probe itself


async def test_a_burst_of_calls_shares_a_bounded_number_of_connections(redis_server):
    # 2,000 sockets closing at once each make a call: they wait their turn for
    # one of CONNECTIONS connections, not one connection each.
    client = get_redis(redis_server)
    with redis.Redis.from_url(redis_server) as probe:
        results = await asyncio.gather(*(client.incr("burst") for _ in range(CONNECTIONS * 10)))
        assert sorted(results) == list(range(1, CONNECTIONS * 10 + 1))
        assert 1 <= connected_clients(probe) <= CONNECTIONS
        await client.aclose()


async def test_new_connections_do_not_name_the_client_library(redis_server):
    # CLIENT SETINFO costs two round trips per connection and a scan of the
    # installed packages, and Redis before 7.2 answers it with an error.
    client = get_redis(redis_server)
    with redis.Redis.from_url(redis_server) as probe:
        probe.config_resetstat()
        await asyncio.gather(*(client.ping() for _ in range(CONNECTIONS)))
        stats = probe.info("commandstats")
        assert not [name for name in stats if "setinfo" in name.lower()]
        assert probe.info("errorstats") == {}
        await client.aclose()
