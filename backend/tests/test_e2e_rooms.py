"""Rooms of version 2 across two Daphne processes on Redis and PostgreSQL: the
unasked `room` and `room_removed` reach the user's sockets on the other
process, a removed member's socket there gets nothing more from the room, and
two people opening the same dm at once on different processes get one room."""

from __future__ import annotations

import asyncio

import pytest

from chat.roomactions import FORBIDDEN

from .harness import unique_room
from .test_e2e_socket import assert_error

pytestmark = pytest.mark.e2e


async def test_a_dm_opened_on_one_process_enters_the_list_on_the_other(scaleout_topo):
    alice = await scaleout_topo.new_user(home=0)
    bob = await scaleout_topo.new_user(home=1)
    a, b = await alice.ws(), await bob.ws()

    joined = await a.ok({"type": "dm", "users": [bob.username]}, "joined")
    room = joined["room"]
    assert room == f"dm-{min(alice.id, bob.id)}-{max(alice.id, bob.id)}"

    news = await b.expect({"type": "room"})
    assert news["room"]["name"] == room and news["room"]["kind"] == "dm" and news["room"]["owner"] is None
    assert sorted(m["username"] for m in news["room"]["members"]) == sorted([alice.username, bob.username])
    await b.join(room)
    said = await a.say(room, "just us")
    assert (await b.expect({"type": "message", "room": room}))["message"] == said


async def test_removal_cuts_delivery_on_the_other_process_at_once(scaleout_topo):
    owner = await scaleout_topo.new_user(home=0)
    guest = await scaleout_topo.new_user(home=1)
    o, g = await owner.ws(), await guest.ws()
    g_again = await guest.ws(server=0)  # the guest's second socket, on the owner's process
    room = unique_room("priv")
    await o.ok({"type": "create", "room": room, "kind": "private", "topic": "plans"}, "joined")

    invited = await o.ok({"type": "invite", "room": room, "user": guest.username}, "invited")
    assert invited["user"] == guest.wire
    for sock in (g, g_again):
        entered = await sock.expect({"type": "room"})
        assert entered["room"]["name"] == room and entered["room"]["topic"] == "plans"
        await sock.join(room)
    before = await o.say(room, "before")
    for sock in (g, g_again):
        assert (await sock.expect({"type": "message", "room": room}))["message"] == before

    removed = await o.ok({"type": "remove", "room": room, "user": guest.username}, "removed")
    assert removed["user"] == guest.wire
    for sock in (g, g_again):
        assert await sock.expect({"type": "room_removed"}) == {"type": "room_removed", "room": room}
    await o.say(room, "after")
    for sock in (g, g_again):
        await sock.absent(lambda f: f.get("room") == room and f["type"] in ("message", "typing", "presence"), 1.0)
        assert_error(await sock.request({"type": "send", "room": room, "body": "x", "client_id": "c"}), "not_joined")
        refused = await sock.request({"type": "join", "room": room})
        assert_error(refused, "forbidden")
        assert refused["detail"] == FORBIDDEN
        listing = await sock.ok({"type": "rooms"}, "rooms")
        assert room not in {entry["name"] for entry in listing["rooms"]}


async def test_two_processes_opening_one_dm_at_once_get_one_room(scaleout_topo):
    alice = await scaleout_topo.new_user(home=0)
    bob = await scaleout_topo.new_user(home=1)
    a, b = await alice.ws(), await bob.ws()
    for _ in range(3):  # a few rounds: the sockets' frames leave together each time
        replies = await asyncio.gather(
            a.request({"type": "dm", "users": [bob.username]}), b.request({"type": "dm", "users": [alice.username]})
        )
        assert [reply["type"] for reply in replies] == ["joined", "joined"], replies
        assert replies[0]["room"] == replies[1]["room"]
    listing = await a.ok({"type": "rooms"}, "rooms")
    dms = [entry for entry in listing["rooms"] if entry["kind"] == "dm"]
    assert [entry["name"] for entry in dms] == [replies[0]["room"]]
