"""The life of a message across two Daphne processes on Redis and PostgreSQL:
`update` reaches the room's sockets on the other process, and a client that
was offline while someone else edited, deleted, reacted and sent catches up
with `join` and `since_rev` (then `changes` while `has_more`) and ends with
exactly the server's state: what a fresh full read of the room says."""

from __future__ import annotations

import pytest

from .harness import unique_room

pytestmark = pytest.mark.e2e


async def full_state(sock, room: str) -> dict[int, dict]:
    """The room as the server holds it now: every message by seq, from a fresh join and history."""
    joined = await sock.join(room)
    messages = {m["seq"]: m for m in joined["messages"]}
    after = 0
    while True:
        page = await sock.ok({"type": "history", "room": room, "after": after, "limit": 100}, "history")
        messages.update({m["seq"]: m for m in page["messages"]})
        if not page["has_more"]:
            return messages
        after = page["messages"][-1]["seq"]


def apply(held: dict[int, dict], messages: list[dict]) -> None:
    """A client's rule: a message replaces the one it holds only when its rev is higher."""
    for message in messages:
        mine = held.get(message["seq"])
        if mine is None or message["rev"] > mine["rev"]:
            held[message["seq"]] = message


async def test_update_reaches_the_other_process(scaleout_topo):
    alice = await scaleout_topo.new_user(home=0)
    bob = await scaleout_topo.new_user(home=1)
    a, b = await alice.ws(), await bob.ws()
    room = unique_room("life")
    await a.join(room)
    await b.join(room)
    said = await a.say(room, f"hi @{bob.username}")
    assert said["mentions"] == [bob.id]
    reacted = await b.ok({"type": "react", "room": room, "seq": said["seq"], "emoji": "👍", "active": True}, "reacted")
    assert (await a.expect({"type": "update", "room": room}))["message"] == reacted["message"]
    assert (await b.expect({"type": "update", "room": room}))["message"] == reacted["message"]  # its own too
    edited = await a.ok({"type": "edit", "room": room, "seq": said["seq"], "body": "hi all"}, "edited")
    assert (await b.expect({"type": "update", "room": room}))["message"] == edited["message"]
    assert edited["message"]["mentions"] == [] and edited["message"]["reactions"] == reacted["message"]["reactions"]


async def test_a_client_offline_during_changes_catches_up_to_the_servers_state(scaleout_topo):
    alice = await scaleout_topo.new_user(home=0)
    bob = await scaleout_topo.new_user(home=1)
    room = unique_room("away")
    a = await alice.ws()
    await a.join(room)
    for k in range(1, 9):
        await a.say(room, f"before {k}")
    b = await bob.ws()
    joined = await b.join(room)
    held = {m["seq"]: m for m in joined["messages"]}
    rev = joined["rev"]
    await b.ok({"type": "react", "room": room, "seq": 2, "emoji": "🎉", "active": True}, "reacted")
    update = (await b.expect({"type": "update", "room": room}))["message"]
    apply(held, [update])
    rev = max(rev, update["rev"])
    await b.close()

    # Bob is away: alice edits, deletes, reacts, replies and sends, some of it
    # through a socket on bob's process; a no-op or two take no rev.
    a2 = await alice.ws(server=1)
    await a2.join(room)
    await a.ok({"type": "edit", "room": room, "seq": 1, "body": f"edited for @{bob.username}"}, "edited")
    await a.ok({"type": "edit", "room": room, "seq": 1, "body": f"edited for @{bob.username}"}, "edited")
    await a2.ok({"type": "delete", "room": room, "seq": 3}, "deleted")
    await a.ok({"type": "react", "room": room, "seq": 2, "emoji": "🎉", "active": True}, "reacted")
    await a2.ok({"type": "react", "room": room, "seq": 4, "emoji": "+1", "active": True}, "reacted")
    await a2.ok({"type": "react", "room": room, "seq": 4, "emoji": "+1", "active": False}, "reacted")
    await a.ok({"type": "send", "room": room, "body": "a reply", "client_id": "reply-1", "reply_to": 2}, "sent")
    for k in range(1, 520):  # past the 500 cap: bob pages with `changes`
        await a2.ok({"type": "send", "room": room, "body": f"while away {k}", "client_id": f"w{k}"}, "sent")
    await a.ok({"type": "react", "room": room, "seq": 5, "emoji": "🚀", "active": True}, "reacted")
    await a.ok({"type": "delete", "room": room, "seq": 6}, "deleted")

    # Bob comes back on the other process, with the rev he held.
    b = await bob.ws(server=0)
    back = await b.join(room, since_rev=rev)
    apply(held, back["messages"])
    assert back["has_more"] is True and len(back["messages"]) == 500
    revs = [m["rev"] for m in back["messages"]]
    assert revs == sorted(revs) and revs[0] > rev
    since_rev, has_more = back["messages"][-1]["rev"], True
    while has_more:
        page = await b.ok({"type": "changes", "room": room, "since_rev": since_rev}, "changes")
        apply(held, page["messages"])
        has_more = page["has_more"]
        since_rev = page["messages"][-1]["rev"] if has_more else page["rev"]
    assert since_rev == page["rev"]

    truth = await full_state(await bob.ws(server=1), room)
    assert held == truth
    assert truth[1]["edited_at"] is not None and truth[1]["mentions"] == [bob.id]
    assert truth[3]["deleted"] is True and truth[3]["body"] == "" and truth[6]["deleted"] is True
    assert [r["emoji"] for r in truth[2]["reactions"]] == ["🎉"] and len(truth[2]["reactions"][0]["users"]) == 2
    assert truth[4]["reactions"] == [] and truth[5]["reactions"][0]["emoji"] == "🚀"
    assert truth[9]["reply_to"] == {"seq": 2, "author": alice.wire, "excerpt": "before 2"}
    # Each change took one rev: 8 + 1 sends and reactions before, 1 + 1 + 1 + 2 + 1 + 519 + 1 + 1 after.
    assert page["rev"] == 9 + 527 and max(m["rev"] for m in truth.values()) == page["rev"]
    # Bob's room list counts the mention above his read marker.
    listed = await b.ok({"type": "rooms"}, "rooms")
    assert next(r for r in listed["rooms"] if r["name"] == room)["mentions"] == 1
