"""The socket, end to end through config.asgi.application: origin check, session
auth, the consumer, the hub and the in-memory channel layer, against the real
test database."""

import asyncio
import functools
import json
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat import events, selectors, services
from chat.announce import PresenceAnnouncer
from chat.hub import close_hub
from chat.presence import rooms as presence_rooms
from chat.roomactions import RoomActions
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

# What version 2 adds to a public room's `rooms` entry (ROOMINFO).
PUBLIC_V2 = {"kind": "public", "topic": "", "owner": None, "members": None, "mentions": 0}

QUIET = 0.3  # how long "nothing arrives" is watched for


@pytest.fixture(autouse=True)
async def fresh_hub():
    yield
    await close_hub()


@pytest.fixture
def login():
    """await login(user) -> a session cookie value for that user (a new session each call)."""

    @database_sync_to_async
    def make_session(user):
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    return make_session


class Socket:
    """A communicator that speaks JSON frames."""

    def __init__(self, session=None, origin=None, host="localhost:8000"):
        headers = [(b"host", host.encode())]
        if session:
            headers.append((b"cookie", f"sessionid={session}".encode()))
        if origin:
            headers.append((b"origin", origin.encode()))
        self.communicator = WebsocketCommunicator(application, "/ws/", headers=headers)

    async def open(self):
        connected, _ = await self.communicator.connect(timeout=5)
        assert connected
        return self

    async def send(self, frame):
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def recv(self, timeout=5):
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def request(self, frame):
        await self.send(frame)
        return await self.recv()

    async def quiet(self):
        return await self.communicator.receive_nothing(timeout=QUIET)

    async def join(self, room, **extra):
        reply = await self.request({"type": "join", "room": room, **extra})
        assert reply["type"] == "joined", reply
        return reply

    async def close(self):
        await self.communicator.disconnect()


@pytest.fixture
async def sockets():
    """sockets(session, origin=None) -> an open Socket; all closed at the end."""
    opened = []

    async def open_socket(session, origin=None, host="localhost:8000"):
        socket = await Socket(session, origin, host).open()
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        await socket.close()


@pytest.fixture
def alice(user):
    return user


@pytest.fixture
def bob(other_user):
    return other_user


def user_dict(user):
    return {"id": user.pk, "username": user.username}


# ---- handshake -------------------------------------------------------------------


async def test_anonymous_socket_is_accepted_then_closed_4401():
    socket = Socket()
    connected, _ = await socket.communicator.connect()
    assert connected
    assert await socket.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_foreign_origin_is_refused_at_the_handshake(alice, login):
    session = await login(alice)
    connected, _ = await Socket(session, origin="https://evil.example").communicator.connect()
    assert not connected


async def test_another_port_of_our_host_is_refused_at_the_handshake(alice, login):
    session = await login(alice)
    connected, _ = await Socket(session, origin="http://localhost:8080", host="localhost:8000").communicator.connect()
    assert not connected


@pytest.mark.parametrize(
    ("origin", "host"),
    [(None, "localhost:8000"), ("http://localhost:8000", "localhost:8000"), ("http://127.0.0.1", "127.0.0.1")],
)
async def test_own_origin_or_none_is_let_in(alice, login, sockets, origin, host):
    socket = await sockets(await login(alice), origin=origin, host=host)
    assert await socket.request({"type": "ping", "ref": "p"}) == {"type": "pong", "ref": "p"}


# ---- errors -----------------------------------------------------------------------


async def test_every_error_code_keeps_the_socket_open(alice, login, sockets):
    socket = await sockets(await login(alice))
    cases = [
        ("{nope", None, "bad_json"),
        ("[1]", None, "bad_json"),
        (json.dumps({"type": "fly", "ref": "1"}), "1", "bad_frame"),
        (json.dumps({"type": "history", "room": "a", "before": True, "ref": "2"}), "2", "bad_frame"),
        (json.dumps({"type": "join", "room": "No Way", "ref": "3"}), "3", "invalid_room"),
        (json.dumps({"type": "send", "room": "a", "body": "  ", "client_id": "c", "ref": "4"}), "4", "invalid_body"),
        (json.dumps({"type": "send", "room": "a", "body": "x", "client_id": "c", "ref": "5"}), "5", "not_joined"),
        (json.dumps({"type": "history", "room": "a", "before": 5, "ref": "6"}), "6", "not_joined"),
        (json.dumps({"type": "typing", "room": "a", "active": True, "ref": "7"}), "7", "not_joined"),
        (json.dumps({"type": "read", "room": "a", "seq": 1, "ref": "8"}), "8", "not_joined"),
    ]
    for text, ref, code in cases:
        await socket.communicator.send_to(text_data=text)
        reply = await socket.recv()
        assert reply["type"] == "error" and reply["code"] == code, (text, reply)
        assert reply.get("ref") == ref
        assert reply["detail"]
    await socket.communicator.send_to(bytes_data=b'{"type":"ping"}')
    assert (await socket.recv())["code"] == "bad_json"
    assert await socket.request({"type": "ping"}) == {"type": "pong"}


async def test_unexpected_failure_is_a_generic_server_error(alice, login, sockets, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "room_list", broken)
    socket = await sockets(await login(alice))
    reply = await socket.request({"type": "rooms", "ref": "r"})
    assert reply["type"] == "error" and reply["code"] == "server_error" and reply["ref"] == "r"
    assert "secret" not in reply["detail"] and "Traceback" not in reply["detail"]
    assert await socket.request({"type": "ping"}) == {"type": "pong"}


async def test_frame_over_64_kib_closes_with_1009(alice, login, sockets):
    socket = await sockets(await login(alice))
    body = "é" * 33_000  # 66,000 bytes in UTF-8 but only 33,000 characters
    await socket.communicator.send_to(text_data=json.dumps({"type": "ping", "pad": body}, ensure_ascii=False))
    assert await socket.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}


async def test_binary_frame_over_64_kib_closes_with_1009_too(alice, login, sockets):
    socket = await sockets(await login(alice))
    await socket.communicator.send_to(bytes_data=b"x" * (64 * 1024 + 1))
    assert await socket.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}


# ---- join, send, history, read, rooms ----------------------------------------------------


async def test_join_send_and_history(alice, bob, login, sockets):
    a = await sockets(await login(alice))
    joined = await a.join("general", ref="j")
    assert joined == {
        "type": "joined",
        "ref": "j",
        "room": "general",
        "presence": [user_dict(alice)],
        "messages": [],
        "has_more": False,
        "rev": 0,
    }
    b = await sockets(await login(bob))
    joined = await b.join("general")
    assert joined["presence"] == [user_dict(alice), user_dict(bob)]
    assert await a.recv() == {"type": "presence", "room": "general", "joins": [user_dict(bob)], "leaves": []}

    sent = await a.request({"type": "send", "room": "general", "body": "  hello  ", "client_id": "c1", "ref": "s"})
    assert sent["type"] == "sent" and sent["ref"] == "s"
    message = sent["message"]
    assert (message["seq"], message["body"], message["author"], message["client_id"]) == (
        1,
        "hello",
        user_dict(alice),
        "c1",
    )
    live = {"type": "message", "room": "general", "message": message}
    assert await a.recv() == live  # the sender's own socket gets it too
    assert await b.recv() == live

    for n in range(2, 5):
        await a.request({"type": "send", "room": "general", "body": f"m{n}", "client_id": f"c{n}"})
        assert (await a.recv())["message"]["seq"] == n
        assert (await b.recv())["message"]["seq"] == n
    history = await b.request({"type": "history", "room": "general", "before": 4, "limit": 2, "ref": "h"})
    assert history["type"] == "history" and history["ref"] == "h" and history["has_more"] is True
    assert [m["seq"] for m in history["messages"]] == [2, 3]

    resumed = await sockets(await login(bob))
    joined = await resumed.join("general", since=2)
    assert [m["seq"] for m in joined["messages"]] == [3, 4] and joined["has_more"] is False
    latest = await (await sockets(await login(bob))).join("general")
    assert [m["seq"] for m in latest["messages"]] == [1, 2, 3, 4]
    # Joining again answers `joined` again.
    assert (await resumed.join("general", ref="again"))["ref"] == "again"


async def test_duplicate_send_is_answered_with_the_first_message(alice, login, sockets):
    a = await sockets(await login(alice))
    await a.join("general")
    first = await a.request({"type": "send", "room": "general", "body": "once", "client_id": "same"})
    assert (await a.recv())["type"] == "message"
    # Another socket of the same user, after a "reconnect".
    other = await sockets(await login(alice))
    await other.join("general")
    again = await other.request({"type": "send", "room": "general", "body": "twice?", "client_id": "same", "ref": "r"})
    assert again == {"type": "sent", "ref": "r", "message": first["message"]}
    assert await a.quiet()  # nothing new was stored or broadcast
    stored, _ = await database_sync_to_async(selectors.messages_latest)(room="general")
    assert [m["body"] for m in stored] == ["once"]


async def test_rate_limited_sends_store_nothing_but_resends_pass(alice, login, sockets, settings):
    settings.CHAT_SEND_RATE = "2/10s"
    a = await sockets(await login(alice))
    await a.join("general")
    for n in range(2):
        assert (await a.request({"type": "send", "room": "general", "body": "x", "client_id": f"c{n}"}))["type"] == "sent"
        assert (await a.recv())["type"] == "message"
    refused = await a.request({"type": "send", "room": "general", "body": "x", "client_id": "c2", "ref": "r"})
    assert (refused["type"], refused["code"], refused["ref"]) == ("error", "rate_limited", "r")
    resend = await a.request({"type": "send", "room": "general", "body": "x", "client_id": "c0"})
    assert resend["type"] == "sent" and resend["message"]["seq"] == 1
    stored, _ = await database_sync_to_async(selectors.messages_latest)(room="general")
    assert [m["client_id"] for m in stored] == ["c0", "c1"]


async def test_rooms_read_and_leave(alice, bob, login, sockets):
    a = await sockets(await login(alice))
    b = await sockets(await login(bob))
    await a.join("general")
    await b.join("general")
    await a.recv()  # bob's presence
    for n in range(3):
        await b.request({"type": "send", "room": "general", "body": "hi", "client_id": f"b{n}"})
        await b.recv()
        await a.recv()
    rooms = await a.request({"type": "rooms", "ref": "r"})
    assert rooms == {
        "type": "rooms",
        "ref": "r",
        "rooms": [{**PUBLIC_V2, "name": "general", "last_seq": 3, "rev": 3, "member": True, "unread": 3, "online": 2}],
    }
    await a.send({"type": "read", "room": "general", "seq": 2})
    assert await a.quiet()  # read has no reply
    assert (await a.request({"type": "rooms"}))["rooms"][0]["unread"] == 1

    assert await a.request({"type": "leave", "room": "general", "ref": "l"}) == {
        "type": "left",
        "ref": "l",
        "room": "general",
    }
    assert await b.recv() == {"type": "presence", "room": "general", "joins": [], "leaves": [user_dict(alice)]}
    # Idempotent: leaving a room not joined answers `left` too.
    assert (await a.request({"type": "leave", "room": "general"}))["type"] == "left"
    assert (await a.request({"type": "send", "room": "general", "body": "x", "client_id": "z"}))["code"] == "not_joined"
    await b.request({"type": "send", "room": "general", "body": "after", "client_id": "b9"})
    assert await a.quiet()  # no longer in the room
    assert (await a.request({"type": "rooms"}))["rooms"][0]["online"] == 1


# ---- presence and typing across sockets -----------------------------------------------


async def test_presence_counts_a_user_once_however_many_sockets(alice, bob, login, sockets):
    b = await sockets(await login(bob))
    await b.join("general")
    a1 = await sockets(await login(alice))
    a2 = await sockets(await login(alice))
    await a1.join("general")
    assert await b.recv() == {"type": "presence", "room": "general", "joins": [user_dict(alice)], "leaves": []}
    joined = await a2.join("general")
    assert joined["presence"] == [user_dict(alice), user_dict(bob)]
    assert await b.quiet()
    await a1.request({"type": "leave", "room": "general"})
    assert await b.quiet()
    await a2.close()
    assert await b.recv() == {"type": "presence", "room": "general", "joins": [], "leaves": [user_dict(alice)]}


async def test_a_socket_that_goes_is_cleaned_up_on_the_event_loop(alice, bob, login, sockets, monkeypatch):
    # Channels' websocket_disconnect closes stale database connections in a
    # thread; a restart closes thousands of sockets at once, and this consumer's
    # database work never runs in that thread anyway.
    hops = []

    async def thread_hop():
        hops.append(1)

    monkeypatch.setattr("channels.generic.websocket.aclose_old_connections", thread_hop)
    b = await sockets(await login(bob))
    await b.join("general")
    a = await sockets(await login(alice))
    await a.join("general")
    assert (await b.recv())["joins"] == [user_dict(alice)]
    await a.close()
    assert await b.recv() == {"type": "presence", "room": "general", "joins": [], "leaves": [user_dict(alice)]}
    assert hops == []


async def test_presence_a_socket_was_told_in_joined_is_not_told_again(alice, bob, login, sockets):
    a = await sockets(await login(alice))
    b = await sockets(await login(bob))
    await a.join("general")
    await b.join("general")
    assert await a.recv() == {"type": "presence", "room": "general", "joins": [user_dict(bob)], "leaves": []}
    # A change announced late (a merged window, a queue) that both already know.
    await events.presence_changed(room="general", joins=[user_dict(alice), user_dict(bob)], leaves=[])
    assert await a.quiet() and await b.quiet()
    # Only the news of a partly known frame, re-serialized for this socket.
    await events.presence_changed(room="general", joins=[user_dict(bob)], leaves=[user_dict(alice)])
    assert await a.recv() == {"type": "presence", "room": "general", "joins": [], "leaves": [user_dict(alice)]}
    assert await b.recv() == {"type": "presence", "room": "general", "joins": [], "leaves": [user_dict(alice)]}


async def test_a_race_of_joins_gives_each_socket_its_snapshot_and_only_diffs_after_it(
    user_factory, login, sockets, monkeypatch
):
    # Every change past the first of a window merged and sent to the whole room,
    # the joiners included, as in a room filling after a restart.
    monkeypatch.setattr(presence_rooms, "PresenceAnnouncer", functools.partial(PresenceAnnouncer, burst=1, window=0.05))
    people = [await database_sync_to_async(user_factory)() for _ in range(8)]
    room = await sockets(await login(people[0]))
    await room.join("general")  # the room exists: no creation limit in the race
    racers = [await sockets(await login(person)) for person in people[1:]]
    everyone = [room, *racers]
    joined = await asyncio.gather(*(racer.join("general") for racer in racers))
    lists = {id(room): {people[0].pk}}
    lists |= {id(racer): {user["id"] for user in reply["presence"]} for racer, reply in zip(racers, joined)}
    for socket in everyone:  # each socket's frames after its joined, until the room is quiet
        while not await socket.quiet():
            frame = await socket.recv()
            assert frame["type"] == "presence", frame
            listed = lists[id(socket)]
            for user in frame["joins"]:
                assert user["id"] not in listed, f"a join of someone listed: {frame}"
                listed.add(user["id"])
            for user in frame["leaves"]:
                assert user["id"] in listed, f"a leave of someone not listed: {frame}"
                listed.remove(user["id"])
        assert listed == {person.pk for person in people}


async def test_typing_goes_to_others_not_to_the_typists_other_socket(alice, bob, login, sockets):
    b = await sockets(await login(bob))
    a1 = await sockets(await login(alice))
    a2 = await sockets(await login(alice))
    await b.join("general")
    await a1.join("general")
    await a2.join("general")
    assert (await b.recv())["type"] == "presence"

    typing = {"type": "typing", "room": "general", "user": user_dict(alice)}
    await a1.send({"type": "typing", "room": "general", "active": True})
    assert await b.recv() == {**typing, "active": True}
    assert await a2.quiet() and await a1.quiet()

    # Sending stops the indicator: the server says active false itself.
    await a1.request({"type": "send", "room": "general", "body": "done", "client_id": "t1"})
    assert (await b.recv())["type"] == "message"
    assert await b.recv() == {**typing, "active": False}

    # So does closing the socket while typing.
    await a1.send({"type": "typing", "room": "general", "active": True})
    assert await b.recv() == {**typing, "active": True}
    await a1.close()
    assert await b.recv() == {**typing, "active": False}
    assert await b.quiet()  # alice is still present through her other socket


# ---- the join race ----------------------------------------------------------------------


async def test_message_stored_during_join_arrives_after_joined(alice, bob, login, sockets, monkeypatch):
    """A message stored after the join's query reaches the socket as a live
    frame, and only after `joined` (it is held back while the join runs)."""
    latest = selectors.messages_latest

    def query_then_someone_sends(**kwargs):
        result = latest(**kwargs)
        message, _ = services.message_create(user=bob, room="general", body="meanwhile", client_id="race")
        async_to_sync(events.message_created)(message)
        time.sleep(0.3)  # let the hub deliver while the join is still running
        return result

    await database_sync_to_async(services.room_join)(user=bob, name="general")
    # Where services.room_enter looks messages_latest up.
    monkeypatch.setattr(services.enter, "messages_latest", query_then_someone_sends)
    a = await sockets(await login(alice))
    joined = await a.join("general")
    assert joined["messages"] == []
    live = await a.recv()
    assert live["type"] == "message" and live["message"]["body"] == "meanwhile"


async def test_a_new_room_two_sockets_make_at_once_is_announced_once(alice, user_factory, login, sockets, monkeypatch):
    listing = await sockets(await login(await database_sync_to_async(user_factory)("lister")))
    await listing.request({"type": "rooms"})
    a = await sockets(await login(alice))
    b = await sockets(await login(await database_sync_to_async(user_factory)("second")))
    # Both joins find no room and are let make it before either does.
    arrived, both = [], asyncio.Event()
    let_make = RoomActions._may_make_a_room

    async def together(self, ref):
        await let_make(self, ref)
        arrived.append(ref)
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)

    monkeypatch.setattr(RoomActions, "_may_make_a_room", together)
    await a.send({"type": "join", "room": "fresh", "ref": "a"})
    await b.send({"type": "join", "room": "fresh", "ref": "b"})
    for socket in (a, b):
        while (frame := await socket.recv())["type"] != "joined":
            assert frame["type"] == "presence", frame
    assert sorted(arrived) == ["a", "b"]
    announced = await listing.recv()
    assert announced["type"] == "room" and announced["room"]["name"] == "fresh"
    assert await listing.quiet()  # once, by the join that made it


# ---- logout ---------------------------------------------------------------------------------


async def test_session_closed_closes_only_that_sessions_sockets(alice, login, sockets):
    session = await login(alice)
    kept = await sockets(await login(alice))
    closing = await sockets(session)
    await events.session_closed(user_id=alice.pk, session_key=session)
    assert await closing.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    assert await kept.request({"type": "ping"}) == {"type": "pong"}



async def test_logout_right_after_the_handshake_closes_the_socket(alice, login, sockets):
    # A client may log out the moment it sees its socket open: by then the
    # socket must already be where a logout reaches it.
    session = await login(alice)
    socket = await sockets(session)
    await events.session_closed(user_id=alice.pk, session_key=session)
    assert await socket.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


# ---- leaving for good, and the room list kept live (v2's leave with forget, unasked room) ----


async def test_leave_for_good_takes_every_socket_of_the_user_out_and_tells_each(alice, bob, login, sockets):
    a1 = await sockets(await login(alice))
    a2 = await sockets(await login(alice))
    b = await sockets(await login(bob))
    await b.join("lobby")
    await a1.join("lobby")
    assert (await b.recv())["joins"] == [user_dict(alice)]
    await a2.join("lobby")
    await b.request({"type": "send", "room": "lobby", "body": "unread for alice", "client_id": "b1"})
    await b.recv()  # its own live frame
    await a1.recv()
    await a2.recv()

    await a1.send({"type": "leave", "room": "lobby", "forget": True, "ref": "bye"})
    info = {**PUBLIC_V2, "name": "lobby", "last_seq": 1, "rev": 1, "member": False, "unread": 0, "online": 1}
    replies = [await a1.recv(), await a1.recv()]
    assert sorted(replies, key=lambda f: f["type"]) == [
        {"type": "left", "ref": "bye", "room": "lobby"},
        {"type": "room", "room": info},
    ]
    assert await a2.recv() == {"type": "room", "room": info}
    # Announced once, when the user's last socket is out.
    assert await b.recv() == {"type": "presence", "room": "lobby", "joins": [], "leaves": [user_dict(alice)]}
    assert await b.quiet()

    await b.request({"type": "send", "room": "lobby", "body": "after", "client_id": "b2"})
    assert await a1.quiet() and await a2.quiet()
    assert (await a2.request({"type": "send", "room": "lobby", "body": "x", "client_id": "a"}))["code"] == "not_joined"
    listed = (await a2.request({"type": "rooms"}))["rooms"]
    assert [r for r in listed if r["name"] == "lobby"] == [{**info, "last_seq": 2, "rev": 2}]

    # A dm is never left for good; a room that does not exist is left all the same.
    refused = await a1.request({"type": "leave", "room": "dm-1-2", "forget": True, "ref": "d"})
    assert (refused["type"], refused["code"], refused["ref"]) == ("error", "forbidden", "d")
    assert (await a1.request({"type": "leave", "room": "nowhere", "forget": True}))["type"] == "left"
    assert await a1.quiet()
    bad = await a1.request({"type": "leave", "room": "lobby", "forget": "yes"})
    assert bad["code"] == "bad_frame"


async def test_a_new_public_room_is_announced_to_sockets_that_listed_the_rooms(alice, bob, login, sockets):
    a = await sockets(await login(alice))
    listing = await sockets(await login(bob))
    silent = await sockets(await login(bob))
    await listing.request({"type": "rooms"})
    await a.request({"type": "rooms"})

    await a.join("fresh")
    assert await listing.recv() == {
        "type": "room", "room": {**PUBLIC_V2, "name": "fresh", "last_seq": 0, "rev": 0, "member": False, "unread": 0, "online": 1},
    }
    assert await silent.quiet()  # never asked for rooms
    assert await a.quiet()  # the creator has its `joined`
    await listing.join("fresh")  # joining a room that exists announces nothing
    assert await a.recv() == {"type": "presence", "room": "fresh", "joins": [user_dict(bob)], "leaves": []}
    assert await a.quiet() and await silent.quiet()
