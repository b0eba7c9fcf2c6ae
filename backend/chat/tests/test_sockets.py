"""One contract for the registry of a user's sockets: in memory and in Redis."""

import pytest

from chat.sockets import MemorySocketRegistry, RedisSocketRegistry
from chat.tests.test_presence import FakeClock, redis_server, redis_url  # noqa: F401 (fixtures)


@pytest.fixture(params=["memory", "redis"])
def registry(request):
    if request.param == "memory":
        return MemorySocketRegistry()
    clock = FakeClock()
    made = RedisSocketRegistry(ttl=30, url=request.getfixturevalue("redis_url"), clock=clock,
                               prefix=f"test:sockets:{id(clock)}:")
    made.clock = clock
    return made


async def test_a_user_holds_at_most_the_limit(registry):
    assert [await registry.claim(user_id=1, conn=f"c{i}", limit=2) for i in range(3)] == [True, True, False]
    assert await registry.claim(user_id=2, conn="other", limit=2) is True  # per user
    assert await registry.claim(user_id=1, conn="c0", limit=2) is True  # a socket already counted


async def test_a_released_socket_makes_room(registry):
    for conn in ("a", "b"):
        assert await registry.claim(user_id=1, conn=conn, limit=2)
    await registry.release(user_id=1, conn="a")
    assert await registry.claim(user_id=1, conn="c", limit=2) is True


async def test_in_redis_a_dead_process_sockets_expire_unless_refreshed(redis_url):  # noqa: F811
    clock = FakeClock()
    registry = RedisSocketRegistry(ttl=30, url=redis_url, clock=clock, prefix="test:sockets:expiry:")
    assert await registry.claim(user_id=1, conn="alive", limit=2)
    assert await registry.claim(user_id=1, conn="dead", limit=2)
    assert await registry.claim(user_id=1, conn="third", limit=2) is False
    clock.advance(20)
    await registry.refresh(entries=[(1, "alive")])  # the living process's heartbeat
    clock.advance(20)  # "dead" was not refreshed for 40 s
    assert await registry.claim(user_id=1, conn="third", limit=2) is True
    assert await registry.claim(user_id=1, conn="fourth", limit=2) is False
