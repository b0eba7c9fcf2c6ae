"""A stalled dependency cannot freeze a socket.

One server on PostgreSQL and Redis, each reached through a proxy that can
stall: it keeps accepting connections and never answers, as a hung (not
crashed) database or Redis does. While one stalls, requests answer within
their deadline (`server_error` for what needs the database; a `send` goes
through a hung Redis), `ping` is answered meanwhile, /healthz names the
stalled part within its own timeout, and once the stall ends all works again.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from .harness import GENEROUS_LIMITS, PostgresDatabase, RedisServer, StallProxy, Topology, unique_room

pytestmark = pytest.mark.e2e

DB_TIMEOUT = 2.0
REDIS_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def stalling(tmp_path_factory):
    redis = RedisServer(tmp_path_factory.mktemp("stall-redis"))
    redis.start()
    database = PostgresDatabase()
    database.create()
    pg_proxy = StallProxy(5432).start()
    redis_proxy = StallProxy(redis.port).start()
    topology = Topology(kind="stall", extra_env={
        **GENEROUS_LIMITS,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_proxy.port}/{database.name}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}/0",
        "CHAT_DB_TIMEOUT": str(DB_TIMEOUT),
        "CHAT_REDIS_TIMEOUT": str(REDIS_TIMEOUT),
        # Every socket's database thread holds a connection; keep them few and reused.
        "DB_CONN_MAX_AGE": "600",
    })
    try:
        topology.start()
        yield topology, pg_proxy, redis_proxy
    finally:
        topology.stop()
        pg_proxy.stop()
        redis_proxy.stop()
        database.drop()
        redis.stop()


async def timed(awaitable):
    start = time.monotonic()
    result = await awaitable
    return result, time.monotonic() - start


async def health(topology) -> tuple[int, dict, float]:
    async with httpx.AsyncClient(base_url=topology.server(0).url, timeout=30) as http:
        response, took = await timed(http.get("/healthz"))
    return response.status_code, response.json(), took


async def test_a_stalled_database_costs_a_request_its_deadline_not_the_socket(stalling):
    topology, pg_proxy, _ = stalling
    alice, bob = await topology.users(2)
    room = unique_room()
    a, b = await alice.ws(), await bob.ws()
    await a.join(room)
    await b.join(room)
    await a.say(room, "before the stall")

    pg_proxy.stall()
    try:
        client_id = str(uuid.uuid4())
        await a.send({"type": "send", "room": room, "body": "during the stall", "client_id": client_id, "ref": "s1"})
        # The socket stays responsive while its send waits on the database.
        _, took = await timed(a.ping(timeout=3))
        assert took < 1.5, f"ping took {took:.1f} s behind a stalled send"
        reply, took = await timed(a.expect({"ref": "s1"}, timeout=DB_TIMEOUT + 5))
        assert reply == {"type": "error", "ref": "s1", "code": "server_error", "detail": reply["detail"]}, reply
        assert took < DB_TIMEOUT + 3, f"server_error after {took:.1f} s"
        # Health names the database, within its own short timeout.
        status, parts, took = await health(topology)
        assert (status, parts) == (503, {"database": "error", "channel_layer": "ok"})
        assert took < 3.5, f"/healthz took {took:.1f} s"
        # A new handshake is not left hanging: it is closed, to be tried again later.
        late = await alice.ws()
        assert await late.closed(DB_TIMEOUT + 5) == 1013
    finally:
        pg_proxy.resume()

    # Once the database answers again, so does everything; the resend of the
    # failed message (same client_id) is stored once.
    resent = await a.ok({"type": "send", "room": room, "body": "during the stall", "client_id": client_id}, "sent",
                        timeout=15)
    again = await a.ok({"type": "send", "room": room, "body": "during the stall", "client_id": client_id}, "sent")
    assert again["message"]["id"] == resent["message"]["id"]
    live = await b.expect(lambda f: f.get("type") == "message" and f["message"]["client_id"] == client_id, 15)
    assert live["message"]["body"] == "during the stall"
    status, parts, _ = await health(topology)
    assert (status, parts) == (200, {"database": "ok", "channel_layer": "ok"})


async def test_a_hung_redis_costs_a_send_one_short_wait_at_most(stalling):
    topology, _, redis_proxy = stalling
    alice, bob = await topology.users(2)
    room = unique_room()
    a, b = await alice.ws(), await bob.ws()
    await a.join(room)
    await b.join(room)

    redis_proxy.stall()
    try:
        took_each = []
        for i in range(5):
            _, took = await timed(a.say(room, f"through a hung redis {i}"))
            took_each.append(took)
        # The first waits out the Redis deadline once; the next go through at once.
        assert max(took_each) < REDIS_TIMEOUT + 2, took_each
        assert sum(took_each) < 2 * REDIS_TIMEOUT + 3, took_each
        _, took = await timed(a.ping(timeout=3))
        assert took < 1.5
        # The room list still answers, and a room can still be joined: presence
        # catches up once Redis answers.
        rooms = await a.ok({"type": "rooms"}, "rooms")
        assert room in [entry["name"] for entry in rooms["rooms"]]
        other_room = unique_room("joined-while-hung")
        joined, took = await timed(a.join(other_room))
        assert took < REDIS_TIMEOUT + 2 and joined["presence"] == [alice.wire]
        status, parts, took = await health(topology)
        assert (status, parts) == (503, {"database": "ok", "channel_layer": "error"})
        assert took < 3.5, f"/healthz took {took:.1f} s"
    finally:
        redis_proxy.resume()

    # Live frames flow again once Redis answers; what was missed is in the store.
    await asyncio.sleep(REDIS_TIMEOUT + 3)  # past the cool-down after the stall
    after = await a.say(room, "after the stall")
    live = await b.expect(lambda f: f.get("type") == "message" and f["message"]["id"] == after["id"], 20)
    assert live["message"]["seq"] == 5 + 1
    history = await b.ok({"type": "history", "room": room, "before": after["seq"]}, "history")
    assert [m["body"] for m in history["messages"]] == [f"through a hung redis {i}" for i in range(5)]
    # The socket that joined while Redis hung is in that room's presence now.
    joined = await b.join(other_room)
    assert alice.wire in joined["presence"]
