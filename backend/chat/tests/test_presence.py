"""One contract for every presence backend: in memory, and Redis on a
redis-server this module starts on a free port."""

import asyncio
import shutil
import socket
import subprocess
import time

import pytest
import redis

from chat.presence.memory import MemoryPresenceStore
from chat.presence.redis import RedisPresenceStore
from chat.redis import get_redis

ALICE = {"id": 1, "username": "alice"}
BOB = {"id": 2, "username": "bob"}
CAROL = {"id": 3, "username": "carol"}
TTL = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server():
    """A throwaway redis-server of our own; its URL. Stopped by its PID."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            probe.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield url
    finally:
        probe.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    redis.Redis.from_url(redis_server).flushdb()
    return redis_server


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backend:
    """How a test makes stores and makes their data vanish, per backend."""

    def __init__(self, kind: str, redis_url: str | None):
        self.kind = kind
        self.redis_url = redis_url
        self.clock = FakeClock()
        self._memory: list[MemoryPresenceStore] = []

    def store(self, *, ttl: float = TTL, url: str | None = None):
        if self.kind == "memory":
            store = MemoryPresenceStore(ttl=ttl, clock=self.clock)
            self._memory.append(store)
            return store
        return RedisPresenceStore(ttl=ttl, url=url or self.redis_url, clock=self.clock)

    async def wipe(self) -> None:
        if self.kind == "memory":
            for store in self._memory:
                store._rooms.clear()
        else:
            await get_redis(self.redis_url).flushdb()


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return Backend(request.param, url)


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
