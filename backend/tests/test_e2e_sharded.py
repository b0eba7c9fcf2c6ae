"""REDIS_URLS with two Redis servers: two Daphne processes whose channel layer
and presence spread rooms over both (docs/deploy.md, "Redis"). Rooms that land
on either server carry messages, presence and a crashed process's leaves
across processes; logout (a user group) closes sockets on both."""

from __future__ import annotations

import time

import pytest
import redis

from chat.presence.sharded import jump_hash

from .harness import GENEROUS_SIGNUP_RATE, RedisServer, Topology, running, unique_room
from .test_e2e_socket import rooms_entry

pytestmark = pytest.mark.e2e

PRESENCE_TTL = 5


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    second = RedisServer(tmp_path_factory.mktemp("redis-b"))
    first = RedisServer(tmp_path_factory.mktemp("redis-a"))
    first.start()
    second.start()
    urls = [f"{first.url}/0", f"{second.url}/0"]
    topology = Topology(kind="sharded", processes=2, redis=first, postgres=True, extra_env={
        "REDIS_URLS": ",".join(urls), "CHAT_PRESENCE_TTL": str(PRESENCE_TTL), "CHAT_SIGNUP_RATE": GENEROUS_SIGNUP_RATE,
    })
    try:
        with running(topology):
            yield topology, urls
    finally:
        first.stop()
        second.stop()


def room_on(shard: int, prefix: str) -> str:
    while True:
        room = unique_room(prefix)
        if jump_hash(room, 2) == shard:
            return room


def presence_rooms(url: str) -> set[str]:
    with redis.Redis.from_url(url, decode_responses=True) as client:
        return {key.split(":")[3] for key in client.keys("chat:presence:room:*:expiry")}


async def test_rooms_on_either_server_carry_messages_and_presence_across_processes(sharded):
    topo, urls = sharded
    alice, bob = await topo.users(2)  # alice's sockets on process A, bob's on B
    rooms = [room_on(0, "shard0"), room_on(1, "shard1")]
    a, b = await alice.ws(), await bob.ws()
    for room in rooms:
        await a.join(room)
        joined = await b.join(room)
        assert {user["id"] for user in joined["presence"]} == {alice.id, bob.id}
        await a.expect({"type": "presence", "room": room, "joins": [bob.wire]})
    # Each room's presence is on the server its name hashes to, and only there.
    assert rooms[0] in presence_rooms(urls[0]) and rooms[0] not in presence_rooms(urls[1])
    assert rooms[1] in presence_rooms(urls[1]) and rooms[1] not in presence_rooms(urls[0])

    for room in rooms:
        sent = await a.say(room, f"hello {room}")
        got = await b.expect(lambda f, room=room: f["type"] == "message" and f["room"] == room)
        assert got["message"]["id"] == sent["id"]
        assert (await rooms_entry(b, room))["online"] == 2

    # Logout goes through bob's user group (on one of the servers): his sockets
    # on both processes close.
    b2 = await bob.ws(server=0)
    assert (await bob.logout()).status_code == 204
    assert await b.closed(timeout=3) == 4401
    assert await b2.closed(timeout=3) == 4401
    for room in rooms:
        frame = await a.expect(lambda f, room=room: f["type"] == "presence" and f["room"] == room)
        assert frame["leaves"] == [bob.wire]


async def test_a_crashed_process_users_leave_rooms_on_both_servers(sharded):
    topo, _urls = sharded
    carol = await topo.new_user(home=0)
    dave = await topo.new_user(home=1)
    rooms = [room_on(0, "crash0"), room_on(1, "crash1")]
    c, d = await carol.ws(server=0), await dave.ws(server=1)
    for room in rooms:
        await c.join(room)
        await d.join(room)
        await c.expect({"type": "presence", "room": room, "joins": [dave.wire]})

    topo.servers[1].crash()
    start = time.monotonic()
    for room in rooms:
        frame = await c.expect(lambda f, room=room: f["type"] == "presence" and f["room"] == room,
                               timeout=PRESENCE_TTL * 3 + 10)
        assert frame == {"type": "presence", "room": room, "joins": [], "leaves": [dave.wire]}
    print(f"both leaves after {time.monotonic() - start:.1f}s")
