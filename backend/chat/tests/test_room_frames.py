"""Version 2's room frames through the socket (consumer, hub, in-memory layer,
test database): their answers, errors and the unasked frames they cause. Who
may do what is test_access.py's table."""

import pytest
from channels.db import database_sync_to_async

from chat.hub import close_hub
from chat.tests.test_consumer import Socket, login, sockets, user_dict  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


@pytest.fixture(autouse=True)
async def fresh_hub():
    yield
    await close_hub()


async def frame_until(socket, pred, limit=10):
    for _ in range(limit):
        frame = await socket.recv()
        if pred(frame):
            return frame
    raise AssertionError("the frame never came")


async def test_create_answers_joined_and_refuses_a_taken_name(user, other_user, login, sockets):
    a = await sockets(await login(user))
    a_other_tab = await sockets(await login(user))
    b = await sockets(await login(other_user))
    await b.request({"type": "rooms"})  # follows the list

    joined = await a.request({"type": "create", "room": "team", "kind": "public", "topic": "hi", "ref": "c"})
    assert joined["type"] == "joined" and joined["ref"] == "c" and joined["room"] == "team"
    told = await b.recv()
    assert told["type"] == "room" and told["room"]["name"] == "team"
    assert (told["room"]["member"], told["room"]["owner"], told["room"]["topic"]) == (False, user_dict(user), "hi")
    mine = await a_other_tab.recv()
    assert mine["type"] == "room" and mine["room"]["member"] is True

    taken = await b.request({"type": "create", "room": "team", "kind": "private", "ref": "t"})
    assert (taken["type"], taken["code"], taken["ref"]) == ("error", "room_exists", "t")
    for name in ("dm-1-2", "dm-9"):
        for frame in ({"type": "create", "room": name, "kind": "public"}, {"type": "join", "room": name}):
            assert (await b.request(frame))["code"] == "forbidden"


async def test_a_private_room_is_announced_to_nobody_else(user, other_user, login, sockets):
    a = await sockets(await login(user))
    b = await sockets(await login(other_user))
    await b.request({"type": "rooms"})
    assert (await a.request({"type": "create", "room": "hush", "kind": "private"}))["type"] == "joined"
    assert await b.quiet()
    listing = await b.request({"type": "rooms"})
    assert "hush" not in [room["name"] for room in listing["rooms"]]


async def test_create_shares_the_new_room_rate_with_join(user, login, sockets, settings):
    settings.CHAT_ROOM_CREATE_RATE = "2/60s"
    a = await sockets(await login(user))
    assert (await a.request({"type": "join", "room": "one"}))["type"] == "joined"
    assert (await a.request({"type": "create", "room": "two", "kind": "private"}))["type"] == "joined"
    assert (await a.request({"type": "create", "room": "three", "kind": "public"}))["code"] == "rate_limited"
    assert (await a.request({"type": "join", "room": "four"}))["code"] == "rate_limited"
    assert (await a.request({"type": "join", "room": "one"}))["type"] == "joined"  # joining is not limited


async def test_dm_names_the_unknown_user_and_counts_others(user, other_user, login, sockets):
    a = await sockets(await login(user))
    missing = await a.request({"type": "dm", "users": ["bob", "nobody"], "ref": "d"})
    assert (missing["code"], missing["ref"]) == ("not_found", "d") and "nobody" in missing["detail"]
    alone = await a.request({"type": "dm", "users": ["alice"]})
    assert alone["code"] == "bad_frame"


async def test_a_dm_enters_the_others_list_with_its_members(user, other_user, login, sockets):
    a = await sockets(await login(user))
    b = await sockets(await login(other_user))  # never listed the rooms: hears it anyway
    joined = await a.request({"type": "dm", "users": ["BOB"]})
    room = f"dm-{user.pk}-{other_user.pk}"
    assert joined["type"] == "joined" and joined["room"] == room
    told = await b.recv()
    assert told == {"type": "room", "room": {
        "name": room, "kind": "dm", "topic": "", "owner": None,
        "members": [user_dict(user), user_dict(other_user)],
        "last_seq": 0, "member": True, "unread": 0, "mentions": 0, "rev": 0, "online": 1,
    }}
    again = await b.request({"type": "dm", "users": ["alice"]})
    assert again["type"] == "joined" and again["room"] == room
    assert (await a.recv())["type"] == "presence"  # bob is in the room now; that is all
    assert await a.quiet()  # found again: nobody is told
    left = await b.request({"type": "leave", "room": room, "forget": True})
    assert left["code"] == "forbidden"


async def test_staff_who_join_a_private_room_become_a_member_that_members_see(
    user, other_user, user_factory, login, sockets
):
    staff = await database_sync_to_async(user_factory)("dave")
    staff.is_staff = True
    await database_sync_to_async(staff.save)()
    a = await sockets(await login(user))
    s = await sockets(await login(staff))
    await a.request({"type": "create", "room": "hush", "kind": "private"})
    listing = await s.request({"type": "rooms"})
    entry = next(room for room in listing["rooms"] if room["name"] == "hush")
    assert entry["member"] is False and entry["members"] == [user_dict(user)]
    assert (await s.request({"type": "join", "room": "hush"}))["type"] == "joined"
    told = await frame_until(a, lambda f: f["type"] == "room")
    assert told["room"]["members"] == [user_dict(user), user_dict(staff)]  # by username
    # ... and may remove members, as the owner may.
    await a.request({"type": "invite", "room": "hush", "user": "bob"})
    await s.send({"type": "remove", "room": "hush", "user": "bob", "ref": "x"})
    removed = await frame_until(s, lambda f: f.get("ref") == "x")  # after the `room` of bob's arrival
    assert removed == {"type": "removed", "ref": "x", "room": "hush", "user": user_dict(other_user)}
