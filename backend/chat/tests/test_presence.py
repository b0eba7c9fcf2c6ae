"""One contract for every presence backend: in memory, and Redis on a
redis-server this module starts on a free port."""

import asyncio
import subprocess

import pytest
import redis

from chat.presence.memory import MemoryPresenceStore
from chat.presence.redis import RedisPresenceStore
from chat.presence.sharded import ShardedPresenceStore, jump_hash
from chat.redis import get_redis
from tests.harness import RedisServer

ALICE = {"id": 1, "username": "alice"}
BOB = {"id": 2, "username": "bob"}
CAROL = {"id": 3, "username": "carol"}
TTL = 30.0


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A redis-server of this module's; its URL."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def second_redis_server(tmp_path_factory):
    """Another one, for presence sharded over two servers."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    redis.Redis.from_url(redis_server).flushdb()
    return redis_server


@pytest.fixture
def two_redis_urls(redis_url, second_redis_server):
    redis.Redis.from_url(second_redis_server).flushdb()
    return [redis_url, second_redis_server]


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backend:
    """How a test makes stores and makes their data vanish, per backend."""

    def __init__(self, kind: str, redis_urls: list[str]):
        self.kind = kind
        self.redis_urls = redis_urls
        self.redis_url = redis_urls[0] if redis_urls else None
        self.clock = FakeClock()
        self._memory: list[MemoryPresenceStore] = []

    def store(self, *, ttl: float = TTL, url: str | None = None):
        if self.kind == "memory":
            store = MemoryPresenceStore(ttl=ttl, clock=self.clock)
            self._memory.append(store)
            return store
        if self.kind == "sharded":
            return ShardedPresenceStore([RedisPresenceStore(ttl=ttl, url=u, clock=self.clock) for u in self.redis_urls])
        return RedisPresenceStore(ttl=ttl, url=url or self.redis_url, clock=self.clock)

    async def wipe(self) -> None:
        if self.kind == "memory":
            for store in self._memory:
                store._rooms.clear()
        else:
            for url in self.redis_urls:
                await get_redis(url).flushdb()


@pytest.fixture(params=["memory", "redis", "sharded"])
def backend(request):
    """The contract below runs against each: in memory, one Redis, and rooms
    spread over two Redis servers."""
    urls = {
        "memory": lambda: [],
        "redis": lambda: [request.getfixturevalue("redis_url")],
        "sharded": lambda: request.getfixturevalue("two_redis_urls"),
    }[request.param]()
    return Backend(request.param, urls)


@pytest.fixture
def store(backend):
    return backend.store()


# ---- first and last ----------------------------------------------------------


async def test_first_conn_joins_and_last_conn_leaves(store):
    assert await store.add(room="lobby", conn="a1", user=ALICE) is True
    assert await store.users(room="lobby") == [ALICE]
    assert await store.remove(room="lobby", conn="a1") == ALICE
    assert await store.users(room="lobby") == []


async def test_enter_adds_and_lists_the_room_in_one_step(store):
    await store.add(room="lobby", conn="b1", user=BOB)
    assert await store.enter(room="lobby", conn="a1", user=ALICE) == (True, [ALICE, BOB])
    assert await store.enter(room="lobby", conn="a2", user=ALICE) == (False, [ALICE, BOB])
    assert await store.enter(room="lobby", conn="a2", user=ALICE) == (False, [ALICE, BOB])  # again: a refresh
    assert await store.remove(room="lobby", conn="a1") is None
    assert await store.remove(room="lobby", conn="a2") == ALICE


async def test_two_conns_of_one_user_count_once(store):
    assert await store.add(room="lobby", conn="a1", user=ALICE) is True
    assert await store.add(room="lobby", conn="a2", user=ALICE) is False
    assert await store.counts(rooms=["lobby"]) == {"lobby": 1}

    assert await store.remove(room="lobby", conn="a1") is None
    assert await store.users(room="lobby") == [ALICE]
    assert await store.remove(room="lobby", conn="a2") == ALICE


async def test_adding_the_same_conn_again_is_not_a_new_join(store):
    assert await store.add(room="lobby", conn="a1", user=ALICE) is True
    assert await store.add(room="lobby", conn="a1", user=ALICE) is False
    assert await store.remove(room="lobby", conn="a1") == ALICE


async def test_removing_an_unknown_conn_is_no_leave(store):
    assert await store.remove(room="lobby", conn="nobody") is None
    await store.add(room="lobby", conn="a1", user=ALICE)
    assert await store.remove(room="lobby", conn="a1") == ALICE
    assert await store.remove(room="lobby", conn="a1") is None


async def test_rooms_are_separate(store):
    assert await store.add(room="lobby", conn="a1", user=ALICE) is True
    assert await store.add(room="random", conn="a1", user=ALICE) is True
    assert await store.remove(room="lobby", conn="a1") == ALICE
    assert await store.users(room="random") == [ALICE]


async def test_users_are_distinct_and_sorted_by_username(store):
    await store.add(room="lobby", conn="c1", user=CAROL)
    await store.add(room="lobby", conn="a1", user=ALICE)
    await store.add(room="lobby", conn="b1", user=BOB)
    await store.add(room="lobby", conn="a2", user=ALICE)
    assert await store.users(room="lobby") == [ALICE, BOB, CAROL]


async def test_a_roster_of_many_users_with_any_names_comes_back_whole(store):
    # Redis returns the roster as one JSON array built in Lua from each user's JSON.
    users = [{"id": n, "username": name} for n, name in enumerate(
        ['zoë', 'quote"d', 'com,ma', 'brack]et', 'back\\slash', '日本'] + [f"user{n:03}" for n in range(300)], start=100)]
    for n, user in enumerate(users):
        await store.add(room="big", conn=f"c{n}", user=user)
    first, roster = await store.enter(room="big", conn="new", user=ALICE)
    assert first
    assert roster == sorted(users + [ALICE], key=lambda user: (user["username"], user["id"]))
    assert await store.users(room="big") == roster


async def test_counts_per_room_including_empty_ones(store):
    await store.add(room="lobby", conn="a1", user=ALICE)
    await store.add(room="lobby", conn="a2", user=ALICE)
    await store.add(room="lobby", conn="b1", user=BOB)
    await store.add(room="random", conn="b1", user=BOB)
    assert await store.counts(rooms=["lobby", "random", "empty"]) == {"lobby": 2, "random": 1, "empty": 0}
    assert await store.counts(rooms=[]) == {}


async def test_concurrent_adds_of_one_user_report_one_first(store):
    results = await asyncio.gather(*(store.add(room="lobby", conn=f"a{i}", user=ALICE) for i in range(20)))
    assert results.count(True) == 1
    leaves = await asyncio.gather(*(store.remove(room="lobby", conn=f"a{i}") for i in range(20)))
    assert [leave for leave in leaves if leave is not None] == [ALICE]


# ---- expiry and heartbeat ----------------------------------------------------


async def test_expire_removes_stale_conns_and_reports_each_leave_once(backend, store):
    await store.add(room="lobby", conn="a1", user=ALICE)
    await store.add(room="lobby", conn="b1", user=BOB)
    backend.clock.advance(TTL / 2)
    await store.add(room="lobby", conn="b2", user=BOB)
    backend.clock.advance(TTL / 2 + 1)

    assert await store.users(room="lobby") == [BOB]
    assert await store.expire() == [("lobby", ALICE)]
    assert await store.expire() == []
    assert await store.users(room="lobby") == [BOB]
    assert await store.remove(room="lobby", conn="b2") == BOB


async def test_nothing_expires_before_the_ttl(backend, store):
    await store.add(room="lobby", conn="a1", user=ALICE)
    backend.clock.advance(TTL - 1)
    assert await store.expire() == []
    assert await store.counts(rooms=["lobby"]) == {"lobby": 1}


async def test_a_stale_conn_is_no_longer_counted_before_the_sweep(backend, store):
    await store.add(room="lobby", conn="a1", user=ALICE)
    backend.clock.advance(TTL + 1)
    assert await store.users(room="lobby") == []
    assert await store.counts(rooms=["lobby"]) == {"lobby": 0}


async def test_stale_conn_still_holds_the_user_until_the_sweep(backend, store):
    # A leave comes either from remove or from expire, never from both.
    await store.add(room="lobby", conn="a1", user=ALICE)
    backend.clock.advance(TTL / 2)
    await store.add(room="lobby", conn="a2", user=ALICE)
    backend.clock.advance(TTL / 2 + 1)

    assert await store.remove(room="lobby", conn="a2") is None
    assert await store.expire() == [("lobby", ALICE)]


async def test_refresh_keeps_live_conns_from_expiring(backend, store):
    await store.add(room="lobby", conn="a1", user=ALICE)
    await store.add(room="lobby", conn="b1", user=BOB)
    for _ in range(3):
        backend.clock.advance(TTL - 1)
        await store.refresh(entries=[("lobby", "a1", ALICE)])
    assert await store.expire() == [("lobby", BOB)]
    assert await store.users(room="lobby") == [ALICE]


async def test_refresh_recreates_entries_that_vanished(backend, store):
    await store.add(room="lobby", conn="a1", user=ALICE)
    await store.add(room="lobby", conn="a2", user=ALICE)
    await store.add(room="random", conn="b1", user=BOB)
    await backend.wipe()
    assert await store.users(room="lobby") == []

    await store.refresh(entries=[("lobby", "a1", ALICE), ("lobby", "a2", ALICE), ("random", "b1", BOB)])

    assert await store.users(room="lobby") == [ALICE]
    assert await store.counts(rooms=["lobby", "random"]) == {"lobby": 1, "random": 1}
    assert await store.remove(room="lobby", conn="a1") is None
    assert await store.remove(room="lobby", conn="a2") == ALICE
    backend.clock.advance(TTL + 1)
    assert await store.expire() == [("random", BOB)]


async def test_refresh_of_nothing_is_fine(store):
    assert await store.refresh(entries=[]) == []
    assert await store.expire() == []


async def test_refresh_names_the_entries_that_made_their_user_present_again(backend, store):
    # A process cut off from the store for longer than the TTL had its users
    # swept (and their leaves announced); its next refresh brings them back.
    await store.add(room="lobby", conn="a1", user=ALICE)
    await store.add(room="lobby", conn="b1", user=BOB)
    backend.clock.advance(TTL + 1)
    assert sorted(await store.expire(), key=str) == [("lobby", ALICE), ("lobby", BOB)]
    await store.add(room="lobby", conn="b2", user=BOB)

    rejoined = await store.refresh(entries=[("lobby", "a1", ALICE), ("lobby", "b1", BOB)])

    assert rejoined == [("lobby", "a1", ALICE)]
    assert await store.users(room="lobby") == [ALICE, BOB]
    assert await store.refresh(entries=[("lobby", "a1", ALICE), ("lobby", "b1", BOB)]) == []


# ---- several processes on one Redis ------------------------------------------


async def test_two_processes_share_presence(redis_url):
    clock = FakeClock()
    one = RedisPresenceStore(ttl=TTL, url=redis_url, clock=clock)
    two = RedisPresenceStore(ttl=TTL, url=redis_url + "?client_name=two", clock=clock)
    assert await one.add(room="lobby", conn="p1.a", user=ALICE) is True
    assert await two.add(room="lobby", conn="p2.a", user=ALICE) is False
    assert await two.users(room="lobby") == [ALICE]
    assert await one.remove(room="lobby", conn="p1.a") is None
    assert await two.remove(room="lobby", conn="p2.a") == ALICE


async def test_two_processes_never_report_the_same_leave(redis_url):
    clock = FakeClock()
    one = RedisPresenceStore(ttl=TTL, url=redis_url, clock=clock)
    two = RedisPresenceStore(ttl=TTL, url=redis_url + "?client_name=two", clock=clock)
    users = [{"id": n, "username": f"user{n:03}"} for n in range(100)]
    for n, user in enumerate(users):
        await (one if n % 2 else two).add(room=f"room{n % 7}", conn=f"conn{n}", user=user)
        await one.add(room=f"room{n % 7}", conn=f"other{n}", user=user)
    clock.advance(TTL + 1)

    sweeps = await asyncio.gather(*(store.expire() for store in (one, two, one, two)))

    leaves = [(room, user["id"]) for sweep in sweeps for room, user in sweep]
    assert sorted(leaves) == sorted((f"room{n % 7}", n) for n in range(100))


async def test_redis_server_time_drives_expiry_without_a_clock(redis_url):
    store = RedisPresenceStore(ttl=0.3, url=redis_url)
    await store.add(room="lobby", conn="a1", user=ALICE)
    assert await store.expire() == []
    assert await store.users(room="lobby") == [ALICE]
    await asyncio.sleep(0.5)
    assert await store.users(room="lobby") == []
    assert await store.expire() == [("lobby", ALICE)]


async def test_get_presence_store_follows_settings(settings, redis_url):
    from chat.presence import get_presence_store

    settings.REDIS_URL = ""
    assert isinstance(get_presence_store(), MemoryPresenceStore)
    assert get_presence_store() is get_presence_store()
    settings.REDIS_URL = redis_url
    store = get_presence_store()
    assert isinstance(store, RedisPresenceStore)
    assert store.ttl == settings.CHAT_PRESENCE_TTL
    assert await store.add(room="lobby", conn="a1", user=ALICE) is True


# ---- rooms spread over several Redis servers (REDIS_URLS) -----------------------


def test_jump_hash_is_stable_spread_and_moves_little_when_a_server_is_added():
    rooms = [f"room-{n}" for n in range(4000)]
    two = [jump_hash(room, 2) for room in rooms]
    three = [jump_hash(room, 3) for room in rooms]
    # Fixed values (blake2b, not hash()): a release that changed them would
    # move every room at a rolling deploy.
    assert [jump_hash("general", n) for n in (1, 2, 3, 4, 8)] == [0, 1, 2, 3, 5]
    assert [jump_hash(f"r{n}", 4) for n in range(8)] == [3, 2, 0, 2, 2, 3, 2, 0]
    assert all(bucket == 0 for bucket in (jump_hash(room, 1) for room in rooms[:50]))
    assert 1800 < two.count(0) < 2200
    moved = [(a, b) for a, b in zip(two, three) if a != b]
    # Only to the new server, and about a third of the rooms.
    assert all(b == 2 for _a, b in moved)
    assert 1100 < len(moved) < 1550


def test_jump_hash_agrees_across_interpreters():
    # A room must map to the same server in every process: no per-process salt.
    code = "from chat.presence.sharded import jump_hash; print([jump_hash(f'r{n}', 2) for n in range(64)])"
    import os
    import sys

    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == str([jump_hash(f"r{n}", 2) for n in range(64)])


async def test_each_room_lives_on_one_server_and_both_servers_hold_rooms(two_redis_urls):
    clock = FakeClock()
    store = ShardedPresenceStore([RedisPresenceStore(ttl=TTL, url=u, clock=clock) for u in two_redis_urls])
    rooms = [f"room{n}" for n in range(40)]
    for n, room in enumerate(rooms):
        assert await store.add(room=room, conn=f"c{n}", user=ALICE) is True
    held = []
    for url in two_redis_urls:
        keys = await get_redis(url).keys("chat:presence:room:*:expiry")
        held.append({key.split(":")[3] for key in keys})
    assert held[0] and held[1], "rooms on both servers"
    assert held[0].isdisjoint(held[1]) and held[0] | held[1] == set(rooms)
    assert held[1] == {room for room in rooms if jump_hash(room, 2) == 1}
    # Another process with the same list sees the same rooms.
    other = ShardedPresenceStore([RedisPresenceStore(ttl=TTL, url=u, clock=clock) for u in two_redis_urls])
    assert await other.counts(rooms=rooms) == {room: 1 for room in rooms}
    assert await other.add(room="room7", conn="c7b", user=ALICE) is False


async def test_a_sweep_keeps_the_leaves_of_the_server_that_answered(two_redis_urls):
    clock = FakeClock()
    stores = [RedisPresenceStore(ttl=TTL, url=u, clock=clock) for u in two_redis_urls]
    store = ShardedPresenceStore(stores)
    rooms = {jump_hash(f"r{n}", 2): f"r{n}" for n in range(20)}  # one room on each server
    for room in rooms.values():
        await store.add(room=room, conn=f"c-{room}", user=BOB)
    clock.advance(TTL + 1)

    class Away:
        ttl = TTL

        async def expire(self):
            raise ConnectionError("shard 0 is away")

    # Server 0 away: server 1's leave is still returned (it was taken out of Redis).
    assert await ShardedPresenceStore([Away(), stores[1]]).expire() == [(rooms[1], BOB)]
    with pytest.raises(ConnectionError):
        await ShardedPresenceStore([Away(), Away()]).expire()
    assert await store.expire() == [(rooms[0], BOB)]


async def test_get_presence_store_shards_when_redis_urls_names_several(settings, two_redis_urls):
    from chat.presence import get_presence_store
    from chat.redis import shard_urls

    settings.REDIS_URL, settings.REDIS_URLS = two_redis_urls[0], list(two_redis_urls)
    assert shard_urls() == two_redis_urls
    store = get_presence_store()
    assert isinstance(store, ShardedPresenceStore)
    assert [shard._run.__self__.url for shard in store.shards] == two_redis_urls
    settings.REDIS_URLS = [two_redis_urls[0]]
    assert isinstance(get_presence_store(), RedisPresenceStore)


async def test_one_sweep_per_gap_whichever_process_asks(redis_url):
    """Every process sweeps every few seconds; with a gap, a Redis is swept by
    the first that asks once the gap has passed, the others' sweeps do nothing."""
    clock = FakeClock()
    stores = [RedisPresenceStore(ttl=TTL, url=redis_url, clock=clock, sweep_gap=4.0) for _ in range(3)]
    # Entries written by a clock 100 s behind are past their TTL at once.
    stale = RedisPresenceStore(ttl=TTL, url=redis_url, clock=lambda: clock.now - 100)
    assert await stores[0].expire() == []  # the first sweep
    await stale.add(room="lobby", conn="a1", user=ALICE)
    assert await stores[1].expire() == []  # due to go, but within the gap: not swept
    clock.advance(3.9)
    assert await stores[2].expire() == []
    clock.advance(0.2)
    assert await stores[2].expire() == [("lobby", ALICE)]  # once the gap is over, whichever asks
    assert await stores[0].expire() == [] and await stores[1].expire() == []
    # A clock that went back (before the last sweep) sweeps at once rather than stall.
    clock.advance(-50)
    await stale.add(room="lobby", conn="b1", user=BOB)
    assert await stores[1].expire() == [("lobby", BOB)]


async def test_the_servers_stores_sweep_with_a_gap(settings, redis_url):
    from chat.presence import SWEEP_GAP, get_presence_store
    from chat.timing import PRESENCE_SWEEP_INTERVAL

    settings.REDIS_URL = redis_url
    assert get_presence_store().sweep_gap == SWEEP_GAP
    assert 0 < SWEEP_GAP < PRESENCE_SWEEP_INTERVAL
