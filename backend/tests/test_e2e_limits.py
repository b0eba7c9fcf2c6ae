"""What one logged-in user may cost, enforced by real servers: two processes on
Redis and PostgreSQL, with small limits so each is reached in a few frames.

- every frame takes a token from its socket's bucket (CHAT_FRAME_RATE, _BURST);
- `typing` floods are dropped;
- new rooms per user (CHAT_ROOM_CREATE_RATE), rooms per socket
  (CHAT_MAX_ROOMS_PER_SOCKET) and sockets per user across processes
  (CHAT_MAX_SOCKETS_PER_USER, then close 4429).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from .harness import GENEROUS_SIGNUP_RATE, Topology, running, unique_room

pytestmark = pytest.mark.e2e

FRAME_BURST = 20
ROOMS_PER_SOCKET = 4
SOCKETS_PER_USER = 3


@pytest.fixture(scope="module")
def limited(shared_redis):
    topology = Topology(kind="limits", processes=2, redis=shared_redis, redis_db=3, postgres=True, extra_env={
        "CHAT_SEND_RATE": "100000/10s",
        "CHAT_SIGNUP_RATE": GENEROUS_SIGNUP_RATE,
        "CHAT_FRAME_RATE": "5",
        "CHAT_FRAME_BURST": str(FRAME_BURST),
        "CHAT_ROOM_CREATE_RATE": "3/60s",
        "CHAT_MAX_ROOMS_PER_SOCKET": str(ROOMS_PER_SOCKET),
        "CHAT_MAX_SOCKETS_PER_USER": str(SOCKETS_PER_USER),
    })
    with running(topology):
        yield topology


@pytest.fixture
async def topo(limited):
    offsets = limited.log_offsets()
    yield limited
    await limited.close_sockets()
    limited.check_logs(offsets)


async def answers(sock, refs: list[str], timeout: float = 10) -> dict[str, dict]:
    got: dict[str, dict] = {}
    for ref in refs:
        got[ref] = await sock.expect(lambda f, ref=ref: f.get("ref") == ref, timeout)
    return got


async def test_frames_over_the_bucket_are_refused_and_do_nothing(topo):
    user = await topo.new_user()
    room = unique_room()
    sock = await user.ws()
    await sock.join(room)
    refs = [f"p{i}" for i in range(40)]
    for ref in refs:
        await sock.send({"type": "ping", "ref": ref})
    got = await answers(sock, refs)
    kinds = [got[ref]["type"] for ref in refs]
    assert kinds.count("pong") <= FRAME_BURST + 1, kinds
    refused = [got[ref] for ref in refs if got[ref]["type"] == "error"]
    assert len(refused) >= 40 - FRAME_BURST - 2
    assert all(frame["code"] == "rate_limited" for frame in refused), refused

    # Over the limit, a send is refused and stores nothing.
    client_id = str(uuid.uuid4())
    reply = await sock.request({"type": "send", "room": room, "body": "too fast", "client_id": client_id})
    assert reply["type"] == "error" and reply["code"] == "rate_limited", reply

    await asyncio.sleep(1.5)  # the bucket refills at 5 a second
    await sock.ping()
    history = await sock.ok({"type": "history", "room": room, "before": 100}, "history")
    assert history["messages"] == []


async def test_a_typing_flood_reaches_others_once(topo):
    typist, watcher = await topo.new_user(), await topo.new_user()
    room = unique_room()
    a, b = await typist.ws(), await watcher.ws()
    await a.join(room)
    await b.join(room)
    for _ in range(15):
        await a.send({"type": "typing", "room": room, "active": True})
    first = await b.expect({"type": "typing"})
    assert first["active"] is True
    await b.absent({"type": "typing"}, 1.0)


async def test_new_rooms_per_user_are_limited_but_joining_is_not(topo):
    maker, other = await topo.new_user(), await topo.new_user()
    sock = await maker.ws()
    made = [unique_room("made") for _ in range(3)]
    for room in made:
        await sock.join(room)
    refused = await sock.request({"type": "join", "room": unique_room("one-too-many")})
    assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
    # Joining a room that exists is not making one.
    theirs = unique_room("theirs")
    await (await other.ws()).join(theirs)
    await sock.ok({"type": "leave", "room": made[0]}, "left")
    await sock.join(theirs)


async def test_a_socket_joins_a_bounded_number_of_rooms(topo):
    makers = [await topo.new_user() for _ in range(2)]
    rooms = []
    for maker in makers:
        sock = await maker.ws()
        for _ in range(3):
            room = unique_room("many")
            await sock.join(room)
            rooms.append(room)
    joiner = await topo.new_user()
    sock = await joiner.ws()
    for room in rooms[:ROOMS_PER_SOCKET]:
        await sock.join(room)
    refused = await sock.request({"type": "join", "room": rooms[ROOMS_PER_SOCKET]})
    assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
    await sock.join(rooms[0])  # one already joined: joining it again is fine
    await sock.ok({"type": "leave", "room": rooms[0]}, "left")
    await sock.join(rooms[ROOMS_PER_SOCKET])
    # The limit is per socket: another tab of the same person starts afresh.
    other_tab = await joiner.ws()
    await other_tab.join(rooms[0])


async def test_sockets_per_user_hold_across_processes(topo):
    user = await topo.new_user()
    first = [await user.ws(server=0), await user.ws(server=1), await user.ws(server=0)]
    for sock in first:
        await sock.ping()
    for server in (0, 1):
        extra = await user.ws(server=server)
        assert await extra.closed(5) == 4429
    # A closed tab makes room for a new one, on either process.
    await first[0].close()
    await asyncio.sleep(0.5)
    again = await user.ws(server=1)
    await again.ping()
