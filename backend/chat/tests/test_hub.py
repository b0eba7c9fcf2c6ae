"""The per-process hub, against Channels' in-memory layer and against
channels-redis on a redis-server this module starts (and restarts) itself."""

import asyncio
import itertools
import json
import time

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

from chat import catchup, events, frames
from chat.hub import Hub
from chat.layers import PubSubChannelLayer
from chat.presence.memory import MemoryPresenceStore
from tests.harness import RedisServer

pytestmark = pytest.mark.timeout(60)

QUIET = 0.3
_conns = itertools.count(1)


# ---- a redis-server of our own --------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


# ---- layers, hubs and sockets ----------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def make_layer(request):
    """make_layer() -> a new layer: in-memory (one shared by all "processes") or
    a separate channels-redis layer per call, as separate processes would have."""
    made = []
    shared_memory = InMemoryChannelLayer()

    def make():
        if request.param == "memory":
            return shared_memory
        server = request.getfixturevalue("redis_server")
        layer = RedisChannelLayer(hosts=[{"address": server.url, "socket_timeout": None}])
        made.append(layer)
        return layer

    yield make
    for layer in made:
        try:
            await layer.flush()
        finally:
            await layer.close_pools()


@pytest.fixture
async def hubs():
    opened = []

    def make_hub(layer, **options):
        options.setdefault("presence_store", MemoryPresenceStore(ttl=30))
        hub = Hub(layer, **options)
        opened.append(hub)
        return hub

    yield make_hub
    for hub in opened:
        await hub.close()


class Sink:
    """A stand-in socket: records what the hub hands it."""

    def __init__(self, user_id: int, session_key: str = "session"):
        self.conn = f"conn{next(_conns)}"
        self.user = {"id": user_id, "username": f"user{user_id}"}
        self.session_key = session_key
        self.frames: asyncio.Queue = asyncio.Queue()
        self.closed = asyncio.Event()

    async def deliver(self, room, text):
        self.frames.put_nowait((room, json.loads(text)))

    async def deliver_presence(self, room, text, joins, leaves):
        await self.deliver(room, text)  # the hub's side only: what each socket keeps back is the consumer's

    async def close_session(self):
        self.closed.set()

    async def leave_for_good(self, room, text):
        await self.deliver(room, text)

    async def next(self, timeout=5):
        return await asyncio.wait_for(self.frames.get(), timeout)

    async def nothing(self):
        await asyncio.sleep(QUIET)
        return self.frames.empty()


@pytest.fixture
def door(monkeypatch):
    """Points events.py (the one door out) at the given layer."""

    def use(layer):
        monkeypatch.setattr(events, "get_channel_layer", lambda: layer)

    return use


def message(room, seq):
    return {"id": seq, "room": room, "seq": seq, "author": {"id": 9, "username": "x"}, "body": "b",
            "created_at": "2026-11-21T10:00:00.000000Z", "client_id": f"c{seq}"}


# ---- fan-out ----------------------------------------------------------------------------


async def test_room_frames_reach_local_sockets_minus_exclusions(make_layer, hubs, door):
    layer = make_layer()
    door(layer)
    hub = hubs(layer)
    alice1, alice2, bob = Sink(1), Sink(1), Sink(2)
    for sink in (alice1, alice2, bob):
        await hub.subscribe("general", sink)

    await events.message_created(message("general", 1))
    for sink in (alice1, alice2, bob):
        room, frame = await sink.next()
        assert room == "general" and frame["type"] == "message" and frame["message"]["seq"] == 1

    await events.typing_changed(room="general", user=alice1.user, active=True)
    assert (await bob.next())[1] == {"type": "typing", "room": "general", "user": alice1.user, "active": True}
    assert await alice1.nothing() and await alice2.nothing()

    await events.presence_changed(room="general", joins=[bob.user], leaves=[], exclude_conn=bob.conn)
    assert (await alice1.next())[1]["joins"] == [bob.user]
    assert (await alice2.next())[1]["joins"] == [bob.user]
    assert await bob.nothing()


async def test_two_processes_on_one_layer_deliver_to_each_others_sockets(make_layer, hubs, door):
    first_layer, second_layer = make_layer(), make_layer()
    door(first_layer)
    first, second = hubs(first_layer), hubs(second_layer)
    here, there = Sink(1), Sink(2)
    await first.subscribe("general", here)
    await second.subscribe("general", there)

    await events.message_created(message("general", 1))
    assert (await here.next())[1]["message"]["seq"] == 1
    assert (await there.next())[1]["message"]["seq"] == 1

    # Once the last local socket leaves, that process stops getting the room.
    await first.unsubscribe("general", here)
    await events.message_created(message("general", 2))
    assert (await there.next())[1]["message"]["seq"] == 2
    assert await here.nothing()


async def test_group_add_and_discard_once_however_many_sockets(hubs):
    layer = InMemoryChannelLayer()
    hub = hubs(layer)
    sinks = [Sink(n) for n in range(20)]
    await asyncio.gather(*(hub.subscribe("busy", sink) for sink in sinks))
    assert set(layer.groups["room.busy"]) == {hub.channel}
    await asyncio.gather(*(hub.unsubscribe("busy", sink) for sink in sinks[:-1]))
    assert set(layer.groups["room.busy"]) == {hub.channel}
    await hub.unsubscribe("busy", sinks[-1])
    assert "room.busy" not in layer.groups
    # Unsubscribing again, or a socket never subscribed, is harmless.
    await hub.unsubscribe("busy", sinks[-1])


async def test_logout_closes_only_that_sessions_sockets(make_layer, hubs, door):
    layer = make_layer()
    door(layer)
    hub = hubs(layer)
    phone, laptop, stranger = Sink(1, "phone"), Sink(1, "laptop"), Sink(2, "phone")
    for sink in (phone, laptop, stranger):
        await hub.register(sink)
    await events.session_closed(user_id=1, session_key="phone")
    await asyncio.wait_for(phone.closed.wait(), 5)
    await asyncio.sleep(QUIET)
    assert not laptop.closed.is_set() and not stranger.closed.is_set()


async def test_a_password_change_closes_every_other_session_on_every_hub(make_layer, hubs, door):
    # Two "processes": the user's sessions are spread over both.
    layer_a, layer_b = make_layer(), make_layer()
    door(layer_a)
    here, there = hubs(layer_a), hubs(layer_b)
    kept_here, kept_there = Sink(1, "current"), Sink(1, "current")
    phone, tablet, stranger = Sink(1, "phone"), Sink(1, "tablet"), Sink(2, "phone")
    for hub, sink in ((here, kept_here), (there, kept_there), (here, phone), (there, tablet), (there, stranger)):
        await hub.register(sink)
    await events.user_sessions_closed(user_id=1, keep_session_key="current", kept_key_now="cycled")
    await asyncio.wait_for(asyncio.gather(phone.closed.wait(), tablet.closed.wait()), 5)
    await asyncio.sleep(QUIET)
    assert not any(sink.closed.is_set() for sink in (kept_here, kept_there, stranger))
    # The kept sockets go by the session's new key: its logout still closes them.
    await events.session_closed(user_id=1, session_key="cycled")
    await asyncio.wait_for(asyncio.gather(kept_here.closed.wait(), kept_there.closed.wait()), 5)


async def test_closing_every_session_of_a_user(make_layer, hubs, door):
    layer = make_layer()
    door(layer)
    hub = hubs(layer)
    phone, laptop, stranger = Sink(1, "phone"), Sink(1, "laptop"), Sink(2, "phone")
    for sink in (phone, laptop, stranger):
        await hub.register(sink)
    await events.user_sessions_closed(user_id=1)
    await asyncio.wait_for(asyncio.gather(phone.closed.wait(), laptop.closed.wait()), 5)
    await asyncio.sleep(QUIET)
    assert not stranger.closed.is_set()


async def test_a_failing_socket_does_not_cost_the_others_their_frame(hubs, door):
    layer = InMemoryChannelLayer()
    door(layer)
    hub = hubs(layer)

    class Broken(Sink):
        async def deliver(self, room, text):
            raise ConnectionError("gone")

    healthy = Sink(2)
    await hub.subscribe("general", Broken(1))
    await hub.subscribe("general", healthy)
    await events.message_created(message("general", 1))
    await events.message_created(message("general", 2))
    assert [(await healthy.next())[1]["message"]["seq"] for _ in range(2)] == [1, 2]


# ---- presence ---------------------------------------------------------------------------


async def test_presence_of_a_dead_process_expires_and_is_announced(hubs, door):
    layer = InMemoryChannelLayer()
    door(layer)
    now = [1000.0]
    store = MemoryPresenceStore(ttl=30, clock=lambda: now[0])
    dead, alive = hubs(layer, presence_store=store), hubs(layer, presence_store=store)
    ghost, watcher = Sink(1), Sink(2)
    await alive.subscribe("general", watcher)
    await alive.presence.enter("general", watcher)
    await dead.subscribe("general", ghost)
    await dead.presence.enter("general", ghost)
    assert (await watcher.next())[1]["joins"] == [ghost.user]
    await dead.close()  # killed: no exit, no more heartbeats

    now[0] += 31
    assert await alive.heartbeat()  # keeps the live process's own entries
    await alive.presence.sweep()
    assert (await watcher.next())[1] == {"type": "presence", "room": "general", "joins": [], "leaves": [ghost.user]}
    assert await store.users(room="general") == [watcher.user]


async def test_sockets_closed_for_a_restart_leave_nobody_until_their_entries_expire(hubs, door):
    """A stopping process closes its sockets (1012) for a restart: the users are
    not leaving. Back on another process within the TTL, nobody sees them go;
    gone for good, the sweep announces them once their entries expire."""
    layer = InMemoryChannelLayer()
    door(layer)
    now = [1000.0]
    store = MemoryPresenceStore(ttl=30, clock=lambda: now[0])
    stopping, other = hubs(layer, presence_store=store), hubs(layer, presence_store=store)
    watcher, back, gone = Sink(1), Sink(2), Sink(3)
    await other.subscribe("general", watcher)
    await other.presence.enter("general", watcher)
    for sink in (back, gone):
        await stopping.subscribe("general", sink)
        await stopping.presence.enter("general", sink)
    assert [(await watcher.next())[1]["joins"] for _ in range(2)] == [[back.user], [gone.user]]
    stopping.presence.stopping = True
    await stopping.presence.exit("general", back)
    await stopping.presence.exit("general", gone)
    assert await watcher.nothing()
    returned = Sink(2)  # the same user on a new socket, on the other process
    await other.subscribe("general", returned)
    await other.presence.enter("general", returned)
    assert await watcher.nothing()  # already present: no join either
    now[0] += 31
    assert await other.heartbeat()
    await other.presence.sweep()
    assert (await watcher.next())[1] == {"type": "presence", "room": "general", "joins": [], "leaves": [gone.user]}
    assert await watcher.nothing()
    assert sorted(u["id"] for u in await store.users(room="general")) == [watcher.user["id"], back.user["id"]]


async def test_enter_and_exit_announce_first_and_last_socket_only(hubs, door):
    layer = InMemoryChannelLayer()
    door(layer)
    hub = hubs(layer)
    watcher, tab1, tab2 = Sink(2), Sink(1), Sink(1)
    for sink in (watcher, tab1, tab2):
        await hub.subscribe("general", sink)
    await hub.presence.enter("general", watcher)
    await hub.presence.enter("general", tab1)
    await hub.presence.enter("general", tab2)
    assert (await watcher.next())[1]["joins"] == [tab1.user]
    assert await watcher.nothing()
    await hub.presence.exit("general", tab1)
    assert await watcher.nothing()
    await hub.presence.exit("general", tab2)
    assert (await watcher.next())[1]["leaves"] == [tab1.user]
    assert hub.presence.entries() == [("general", watcher.conn, watcher.user)]


async def test_users_swept_while_their_process_was_cut_off_are_announced_again(hubs, door):
    layer = InMemoryChannelLayer()
    door(layer)
    now = [1000.0]
    store = MemoryPresenceStore(ttl=30, clock=lambda: now[0])
    cut_off, other = hubs(layer, presence_store=store), hubs(layer, presence_store=store)
    sink, watcher = Sink(1), Sink(2)
    await other.subscribe("general", watcher)
    await other.presence.enter("general", watcher)
    await cut_off.subscribe("general", sink)
    await cut_off.presence.enter("general", sink)
    assert (await watcher.next())[1]["joins"] == [sink.user]

    now[0] += 31  # no heartbeat got through meanwhile (Redis unreachable from that process)
    assert await other.heartbeat()
    await other.presence.sweep()
    assert (await watcher.next())[1]["leaves"] == [sink.user]
    assert await cut_off.heartbeat()  # reachable again
    assert (await watcher.next())[1] == {"type": "presence", "room": "general", "joins": [sink.user], "leaves": []}
    assert await store.users(room="general") == [sink.user, watcher.user]


async def test_a_socket_leaving_during_a_refresh_is_not_put_back(hubs, door):
    layer = InMemoryChannelLayer()
    door(layer)
    store = MemoryPresenceStore(ttl=30)
    hub = hubs(layer, presence_store=store)
    watcher, leaving = Sink(2), Sink(1)
    for sink in (watcher, leaving):
        await hub.subscribe("general", sink)
        await hub.presence.enter("general", sink)
    refresh = store.refresh

    async def slow_refresh(*, entries):
        # The socket leaves after the heartbeat took its snapshot, and its
        # remove reaches the store before the refresh does.
        await hub.presence.exit("general", leaving)
        return await refresh(entries=entries)

    store.refresh = slow_refresh
    assert (await watcher.next())[1]["joins"] == [leaving.user]
    assert await watcher.nothing()
    assert await hub.heartbeat()
    assert await store.users(room="general") == [watcher.user]
    await asyncio.sleep(QUIET)
    frames = []
    while not watcher.frames.empty():
        frames.append((await watcher.next())[1])
    assert [f["leaves"] for f in frames if f["type"] == "presence" and f["leaves"]] == [[leaving.user]]
    assert not [f for f in frames if f["type"] == "presence" and leaving.user in f["joins"]]


# ---- Redis going away --------------------------------------------------------------------


async def nothing_missed(rooms, since):
    return {}


async def test_membership_survives_a_redis_restart(redis_server, hubs, door):
    layer = RedisChannelLayer(hosts=[{"address": redis_server.url, "socket_timeout": None}])
    door(layer)
    hub = hubs(layer, missed=nothing_missed)  # live frames only (the catch-up is the next test's)
    sink = Sink(1)
    try:
        await hub.subscribe("general", sink)
        await events.message_created(message("general", 1))
        assert (await sink.next())[1]["message"]["seq"] == 1

        redis_server.stop()  # forgets every group: it keeps nothing on disk
        await asyncio.sleep(0.5)
        await events.message_created(message("general", 2))  # lost, and logged, not raised
        redis_server.start()

        # The receive loop notices, backs off, and the heartbeat re-adds the group.
        deadline = time.monotonic() + 20
        seq = 3
        while True:
            await events.message_created(message("general", seq))
            try:
                room, frame = await sink.next(timeout=0.5)
                break
            except TimeoutError:
                assert time.monotonic() < deadline, "the hub never re-joined its groups"
                seq += 1
        assert frame["message"]["seq"] >= 3
    finally:
        await hub.close()
        await layer.close_pools()


@pytest.mark.parametrize("kind", ["core", "pubsub"])
async def test_after_a_redis_restart_the_sockets_get_what_was_stored_meanwhile(kind, redis_server, hubs, door):
    """chat/catchup.py: the pub/sub layer subscribes again by itself, the core layer's
    receive fails and the heartbeat re-adds the groups; either way the sockets of
    the hub's rooms are handed the messages stored since the outage began, and
    a socket whose user lost a room meanwhile is taken out of it."""
    layer_class = RedisChannelLayer if kind == "core" else PubSubChannelLayer
    layer = layer_class(hosts=[{"address": redis_server.url, "socket_timeout": None}])
    door(layer)
    asked = []

    async def missed(rooms, since):  # the store's side is test_selectors' and test_rooms'
        asked.append((rooms, since))
        return {"general": catchup.Missed([frames.dumps(frames.message(message("general", 2)))], {1, 3}),
                "secret": catchup.Missed([], {1})}  # user 3 lost it meanwhile

    hub = hubs(layer, missed=missed)
    sink, elsewhere, removed = Sink(1), Sink(2), Sink(3)
    try:
        await hub.subscribe("general", sink)
        await hub.subscribe("secret", removed)
        await hub.register(elsewhere)  # in no room: nothing to catch up on
        await events.message_created(message("general", 1))
        assert (await sink.next())[1]["message"]["seq"] == 1
        assert not asked

        stopped_at = time.time()
        redis_server.stop()
        await asyncio.sleep(0.5)
        await events.message_created(message("general", 2))  # stored, and lost to the layer
        redis_server.start()

        room, frame = await sink.next(timeout=20)
        assert (room, frame["type"], frame["message"]["seq"]) == ("general", "message", 2)
        assert asked[0][0] == {"general": {1}, "secret": {3}} and asked[0][1] <= stopped_at
        assert (await removed.next()) == ("secret", {"type": "room_removed", "room": "secret"})
        assert await elsewhere.nothing()
    finally:
        await hub.close()
        if kind == "core":
            await layer.close_pools()
        else:
            await layer.flush()


# ---- the processes group (chat/drain.py asks it) ------------------------------------------


async def test_each_hub_counts_the_other_processes_on_its_redis(redis_server, hubs):
    def pubsub_layer():
        return PubSubChannelLayer(hosts=[{"address": redis_server.url, "socket_timeout": None}])

    first, second, third = hubs(pubsub_layer()), hubs(pubsub_layer()), hubs(pubsub_layer())
    try:
        await first.open()
        await wait_for_count(first, 0)  # alone, itself not counted
        await second.open()
        await third.open()
        await wait_for_count(first, 2)
        await wait_for_count(third, 2)
        await second.close()
        await wait_for_count(first, 1)
        await wait_for_count(third, 1)
    finally:
        for hub in (first, second, third):
            await hub.close()
            await hub.layer.flush()


async def test_with_the_in_memory_layer_a_hub_has_no_other_process(hubs):
    hub = hubs(InMemoryChannelLayer())
    assert await hub.other_processes() == 0


async def wait_for_count(hub, expected, timeout=5.0):
    # The heartbeat's first round adds the group; SUBSCRIBE is not answered before it returns.
    deadline = asyncio.get_running_loop().time() + timeout
    while (count := await hub.other_processes()) != expected:
        assert asyncio.get_running_loop().time() < deadline, (count, expected)
        await asyncio.sleep(0.05)
