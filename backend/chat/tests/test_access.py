"""Who may do what in which room, through the socket: every frame × every kind
of room × member, non-member, owner and staff (issue 9's table, and issue 11's
`search`).

Each (kind, role) case builds the same rooms from scratch: alice owns the
public room `pub` and the private room `priv`; bob and erin are members of
both; the dm room is alice's, bob's and erin's. carol is in none of them and
dave is staff. The role's socket then sends every frame in a fixed order, and
each answer is checked against EXPECTED.
"""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat import services
from chat.hub import close_hub
from chat.models import Membership
from chat.roomactions import FORBIDDEN
from chat.tests.test_consumer import Socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

KINDS = ("public", "private", "dm")
ROLES = ("owner", "member", "nonmember", "staff")
USER_OF_ROLE = {"owner": "alice", "member": "bob", "nonmember": "carol", "staff": "dave"}

# Which roles may, per frame and kind; everyone else gets the error named in ERROR.
# In the dm room alice is a member like bob (a dm has no owner).
EVERYONE = set(ROLES)
EXPECTED = {
    "rooms": {"public": EVERYONE, "private": {"owner", "member", "staff"}, "dm": {"owner", "member"}},
    "topic": {"public": {"owner", "member", "staff"}, "private": {"owner", "staff"}, "dm": {"owner", "member"}},
    "invite": {"public": set(), "private": {"owner", "member", "staff"}, "dm": set()},
    "remove": {"public": set(), "private": {"owner", "staff"}, "dm": set()},
    "join": {"public": EVERYONE, "private": {"owner", "member", "staff"}, "dm": {"owner", "member"}},
    "history": {"public": EVERYONE, "private": {"owner", "member", "staff"}, "dm": {"owner", "member"}},
    "search": {"public": EVERYONE, "private": {"owner", "member", "staff"}, "dm": {"owner", "member"}},
    "send": {"public": EVERYONE, "private": {"owner", "member", "staff"}, "dm": {"owner", "member"}},
    "typing": {"public": EVERYONE, "private": {"owner", "member", "staff"}, "dm": {"owner", "member"}},
    "read": {"public": EVERYONE, "private": {"owner", "member", "staff"}, "dm": {"owner", "member"}},
    # The owner of a private room leaves it too (and it is left without owner).
    "leave_forget": {"public": EVERYONE, "private": EVERYONE, "dm": set()},
}
# Refusals: a frame that needs the room joined says not_joined once the join was refused.
ERROR = {"topic": "forbidden", "invite": "forbidden", "remove": "forbidden", "join": "forbidden",
         "history": "not_joined", "search": "forbidden", "send": "not_joined", "typing": "not_joined", "read": "not_joined",
         "leave_forget": "forbidden"}


@pytest.fixture(autouse=True)
async def fresh_hub():
    yield
    await close_hub()


@database_sync_to_async
def build_rooms(user_factory):
    users = {name: user_factory(name) for name in ("alice", "bob", "carol", "dave", "erin", "frank")}
    users["dave"].is_staff = True
    users["dave"].save()
    alice, bob, erin = users["alice"], users["bob"], users["erin"]
    services.room_create(user=alice, name="pub", kind="public")
    services.room_create(user=alice, name="priv", kind="private")
    for member in (bob, erin):
        services.room_join(user=member, name="pub")
        services.member_invite(user=alice, room="priv", username=member.username)
    name, member_ids, _ = services.dm_members(user=alice, usernames=["bob", "erin"])
    services.dm_create(name=name, member_ids=member_ids)
    for room in ("pub", "priv", name):
        services.message_create(user=alice, room=room, body="first", client_id=f"first-{room}")
    sessions = {}
    for username, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[username] = client.cookies["sessionid"].value
    return {"public": "pub", "private": "priv", "dm": name}, sessions


class Probe:
    """The role's socket; every request carries a ref, and unasked frames
    (`room`, `room_removed`) that arrive meanwhile are kept aside."""

    def __init__(self, socket):
        self.socket = socket
        self.unasked = []
        self.refs = 0

    async def ask(self, frame):
        self.refs += 1
        ref = f"r{self.refs}"
        await self.socket.send({**frame, "ref": ref})
        while True:
            reply = await self.socket.recv()
            if reply.get("ref") == ref:
                return reply
            self.unasked.append(reply)

    async def tell(self, frame):
        """A frame without an answer: an error if it was refused, else None (a ping behind it answers)."""
        await self.socket.send(frame)
        reply = await self.ask({"type": "ping"})
        if reply["type"] == "pong":
            errors = [f for f in self.unasked if f["type"] == "error"]
            return errors[-1] if errors else None
        return reply


def check(frame_name, kind, role, reply, ok_type):
    allowed = role in EXPECTED[frame_name][kind]
    if allowed:
        assert reply is not None and reply["type"] == ok_type, (frame_name, kind, role, reply)
    else:
        assert reply is not None and reply["type"] == "error", (frame_name, kind, role, reply)
        assert reply["code"] == ERROR[frame_name], (frame_name, kind, role, reply)
        if reply["code"] == "forbidden" and frame_name != "leave_forget":
            assert reply["detail"] == FORBIDDEN  # the same words whether the room exists or not
    return allowed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
async def test_every_frame_by_kind_and_role(kind, role, user_factory):
    rooms, sessions = await build_rooms(user_factory)
    room = rooms[kind]
    socket = await Socket(sessions[USER_OF_ROLE[role]]).open()
    erin = await Socket(sessions["erin"]).open()
    try:
        probe = Probe(socket)

        listing = await probe.ask({"type": "rooms"})
        listed = {entry["name"]: entry for entry in listing["rooms"]}
        assert (room in listed) == (role in EXPECTED["rooms"][kind]), (kind, role, sorted(listed))
        if room in listed and kind != "public":
            assert [m["username"] for m in listed[room]["members"]] == ["alice", "bob", "erin"]

        reply = await probe.ask({"type": "topic", "room": room, "topic": f"by {role}"})
        if check("topic", kind, role, reply, "room"):
            assert reply["room"]["topic"] == f"by {role}" and reply["room"]["name"] == room

        reply = await probe.ask({"type": "invite", "room": room, "user": "frank"})
        if check("invite", kind, role, reply, "invited"):
            assert reply["user"]["username"] == "frank"

        reply = await probe.ask({"type": "remove", "room": room, "user": "erin"})
        if check("remove", kind, role, reply, "removed"):
            assert reply["user"]["username"] == "erin"
            # Erin hears the topic and frank's arrival first, then that the room is gone.
            heard = [await erin.recv()]
            while heard[-1]["type"] == "room":
                heard.append(await erin.recv())
            assert heard[-1] == {"type": "room_removed", "room": room}, heard
            assert not await database_sync_to_async(
                Membership.objects.filter(user__username="erin", room__name=room).exists
            )()

        reply = await probe.ask({"type": "join", "room": room})
        if check("join", kind, role, reply, "joined"):
            assert [m["body"] for m in reply["messages"]] == ["first"]

        reply = await probe.ask({"type": "history", "room": room, "before": 2})
        if check("history", kind, role, reply, "history"):
            assert [m["seq"] for m in reply["messages"]] == [1]

        # Search needs no join: the room (or every room) the user may read.
        reply = await probe.ask({"type": "search", "query": "first", "room": room})
        if check("search", kind, role, reply, "search"):
            assert [(m["room"], m["body"]) for m in reply["messages"]] == [(room, "first")]
        reply = await probe.ask({"type": "search", "query": "first"})
        found = {m["room"] for m in reply["messages"]}
        assert (room in found) == (role in EXPECTED["search"][kind]), (kind, role, found)

        reply = await probe.ask({"type": "send", "room": room, "body": "hello", "client_id": f"c-{role}"})
        check("send", kind, role, reply, "sent")

        for name, frame in [("typing", {"type": "typing", "room": room, "active": True}),
                            ("read", {"type": "read", "room": room, "seq": 1})]:
            error = await probe.tell(frame)
            if role in EXPECTED[name][kind]:
                assert error is None, (name, kind, role, error)
            else:
                assert error is not None and error["code"] == ERROR[name], (name, kind, role, error)
            probe.unasked = [f for f in probe.unasked if f["type"] != "error"]

        reply = await probe.ask({"type": "leave", "room": room, "forget": True})
        check("leave_forget", kind, role, reply, "left")
        if kind == "private" and role != "nonmember":
            # Every socket of the user (this one too) hears that the room is gone.
            while not any(f == {"type": "room_removed", "room": room} for f in probe.unasked):
                probe.unasked.append(await socket.recv())
            listing = await probe.ask({"type": "rooms"})
            member = {e["name"]: e["member"] for e in listing["rooms"]}
            # Staff still see private rooms, as non-members.
            assert member.get(room) == (False if role == "staff" else None)
        # A non-member never heard a word of a private or dm room.
        if role not in EXPECTED["rooms"][kind]:
            assert all(room not in str(frame) for frame in probe.unasked), probe.unasked
    finally:
        await socket.close()
        await erin.close()
