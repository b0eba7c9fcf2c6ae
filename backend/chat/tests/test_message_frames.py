"""Version 2's message frames through the socket (consumer, hub, in-memory
layer, test database): `send` with `reply_to`, `edit`, `delete`, `react`,
`changes`, `join` with `since_rev`, `history` with `after`; their answers,
errors and the unasked `update`; revs, mentions and limits."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from chat.hub import close_hub
from chat.models import Room
from chat.tests.test_consumer import Socket, login, sockets, user_dict  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
async def fresh_hub():
    yield
    await close_hub()


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def staff(user_factory):
    made = user_factory("sam")
    made.is_staff = True
    made.save()
    return made


async def room_rev(name):
    return await database_sync_to_async(lambda: Room.objects.get(name=name).last_rev)()


async def send(socket, body, client_id, room="lobby", **extra):
    """`sent`'s message; the socket's own live `message` is read too."""
    sent = await socket.request({"type": "send", "room": room, "body": body, "client_id": client_id, **extra})
    assert sent["type"] == "sent", sent
    live = await socket.recv()
    assert live["type"] == "message" and live["message"] == sent["message"]
    return sent["message"]


_refs = iter(range(10**9))


async def reply(socket, frame):
    """The answer to this request (by its ref), passing over the live frames before it."""
    ref = frame.get("ref") or f"q{next(_refs)}"
    await socket.send({**frame, "ref": ref})
    for _ in range(50):
        got = await socket.recv()
        if got.get("ref") == ref:
            return got
    raise AssertionError("no answer")


async def drain(socket):
    """Every frame that comes until the socket is quiet."""
    frames = []
    while not await socket.quiet():
        frames.append(await socket.recv())
    return frames


async def joined_pair(login, sockets, a_user, b_user, room="lobby"):
    a = await sockets(await login(a_user))
    b = await sockets(await login(b_user))
    assert (await a.request({"type": "join", "room": room}))["type"] == "joined"
    assert (await b.request({"type": "join", "room": room}))["type"] == "joined"
    assert (await a.recv())["type"] == "presence"
    return a, b


async def test_edit_answers_edited_and_tells_the_room(user, other_user, login, sockets):
    a, b = await joined_pair(login, sockets, user, other_user)
    first = await send(a, "helo", "c1")
    assert (await b.recv())["type"] == "message"
    assert first["rev"] == 1 and first["edited_at"] is None

    edited = await a.request({"type": "edit", "room": "lobby", "seq": 1, "body": "  hello @bob ", "ref": "e"})
    assert edited["type"] == "edited" and edited["ref"] == "e"
    message = edited["message"]
    assert (message["body"], message["rev"], message["seq"], message["mentions"]) == (
        "hello @bob", 2, 1, [other_user.pk],
    )
    assert message["edited_at"] is not None and message["created_at"] == first["created_at"]
    update = {"type": "update", "room": "lobby", "message": message}
    assert await a.recv() == update and await b.recv() == update

    # The same body again changes nothing: no rev, no update.
    again = await a.request({"type": "edit", "room": "lobby", "seq": 1, "body": "hello @bob"})
    assert again == {"type": "edited", "message": message}
    assert await a.quiet() and await b.quiet() and await room_rev("lobby") == 2


async def test_edit_refusals(user, other_user, login, sockets):
    a, b = await joined_pair(login, sockets, user, other_user)
    await send(a, "mine", "c1")
    await b.recv()
    cases = [
        (b, {"seq": 1, "body": "not yours"}, "forbidden"),
        (a, {"seq": 2, "body": "nothing there"}, "not_found"),
        (a, {"seq": 1, "body": "   "}, "invalid_body"),
        (a, {"seq": 1, "body": "x" * 4001}, "invalid_body"),
        (a, {"seq": 0, "body": "x"}, "bad_frame"),
        (a, {"seq": 1}, "bad_frame"),
        (a, {"room": "elsewhere", "seq": 1, "body": "x"}, "not_joined"),
    ]
    for socket, fields, code in cases:
        answer = await reply(socket, {"type": "edit", "room": "lobby", "ref": "r", **fields})
        assert (answer["type"], answer["code"], answer["ref"]) == ("error", code, "r"), (fields, answer)
    assert (await reply(a, {"type": "delete", "room": "lobby", "seq": 1}))["type"] == "deleted"
    gone = await reply(a, {"type": "edit", "room": "lobby", "seq": 1, "body": "back"})
    assert gone["code"] == "not_found"
    assert await room_rev("lobby") == 2


async def test_delete_leaves_a_tombstone_and_is_for_author_owner_and_staff(user, other_user, carol, staff, login, sockets):
    a = await sockets(await login(user))
    assert (await reply(a, {"type": "create", "room": "club", "kind": "public"}))["type"] == "joined"  # alice owns it
    b = await sockets(await login(other_user))
    c = await sockets(await login(carol))
    s = await sockets(await login(staff))
    for socket in (b, c, s):
        assert (await reply(socket, {"type": "join", "room": "club"}))["type"] == "joined"
    for k, socket in enumerate((b, b, b, c)):
        sent = await reply(socket, {"type": "send", "room": "club", "body": f"m{k} @carol", "client_id": f"d{k}"})
        assert sent["type"] == "sent"
    await reply(b, {"type": "react", "room": "club", "seq": 1, "emoji": "👍", "active": True})

    # carol is neither author nor owner of bob's message.
    refused = await reply(c, {"type": "delete", "room": "club", "seq": 1, "ref": "x"})
    assert (refused["code"], refused["ref"]) == ("forbidden", "x")
    by_author = await reply(b, {"type": "delete", "room": "club", "seq": 1, "ref": "d"})
    assert by_author["type"] == "deleted" and by_author["ref"] == "d"
    tomb = by_author["message"]
    assert tomb["deleted"] is True and (tomb["body"], tomb["mentions"], tomb["reactions"], tomb["reply_to"]) == (
        "", [], [], None,
    )
    assert tomb["seq"] == 1 and tomb["author"] == user_dict(other_user)
    assert (await reply(a, {"type": "delete", "room": "club", "seq": 2}))["message"]["deleted"] is True  # owner
    assert (await reply(s, {"type": "delete", "room": "club", "seq": 3}))["message"]["deleted"] is True  # staff
    assert (await reply(c, {"type": "delete", "room": "club", "seq": 4}))["message"]["deleted"] is True  # author
    rev = await room_rev("club")
    again = await reply(c, {"type": "delete", "room": "club", "seq": 4})
    assert again["type"] == "deleted" and await room_rev("club") == rev  # a no-op
    assert (await reply(c, {"type": "delete", "room": "club", "seq": 9}))["code"] == "not_found"
    # The mentions of deleted messages no longer count.
    listed = await reply(c, {"type": "rooms"})
    assert [r["mentions"] for r in listed["rooms"] if r["name"] == "club"] == [0]


async def test_react_adds_and_removes_once_and_checks_emoji(user, other_user, login, sockets):
    a, b = await joined_pair(login, sockets, user, other_user)
    await send(a, "react to me", "c1")
    await b.recv()

    added = await b.request({"type": "react", "room": "lobby", "seq": 1, "emoji": "🎉", "active": True, "ref": "r"})
    assert added["type"] == "reacted" and added["ref"] == "r"
    assert added["message"]["reactions"] == [{"emoji": "🎉", "users": [user_dict(other_user)]}]
    assert added["message"]["rev"] == 2
    update = {"type": "update", "room": "lobby", "message": added["message"]}
    assert await a.recv() == update and await b.recv() == update
    await reply(a, {"type": "react", "room": "lobby", "seq": 1, "emoji": "+1", "active": True})
    both = await reply(a, {"type": "react", "room": "lobby", "seq": 1, "emoji": "🎉", "active": True})
    ids = sorted([user.pk, other_user.pk])
    assert [(r["emoji"], [u["id"] for u in r["users"]]) for r in both["message"]["reactions"]] == [
        ("🎉", ids), ("+1", [user.pk]),
    ]
    assert [f["message"]["rev"] for f in await drain(b)] == [3, 4]
    await drain(a)
    rev = await room_rev("lobby")
    same = await a.request({"type": "react", "room": "lobby", "seq": 1, "emoji": "+1", "active": True})
    assert same["type"] == "reacted" and await a.quiet() and await b.quiet() and await room_rev("lobby") == rev
    removed = await a.request({"type": "react", "room": "lobby", "seq": 1, "emoji": "+1", "active": False})
    assert [r["emoji"] for r in removed["message"]["reactions"]] == ["🎉"]
    assert (await b.recv())["type"] == "update"
    await a.recv()
    not_there = await a.request({"type": "react", "room": "lobby", "seq": 1, "emoji": "+1", "active": False})
    assert not_there["type"] == "reacted" and await b.quiet() and await room_rev("lobby") == rev + 1

    for emoji in ("", "a b", "x" * 33, "\u200b", "ok\n", "\x07", 5):
        bad = await a.request({"type": "react", "room": "lobby", "seq": 1, "emoji": emoji, "active": True, "ref": "i"})
        assert (bad["code"], bad["ref"]) == ("invalid_emoji" if isinstance(emoji, str) else "bad_frame", "i"), emoji
    long_one = await reply(a, {"type": "react", "room": "lobby", "seq": 1, "emoji": "x" * 32, "active": True})
    assert long_one["type"] == "reacted"
    zwj = await reply(a, {"type": "react", "room": "lobby", "seq": 1, "emoji": "👩\u200d💻", "active": True})
    assert zwj["type"] == "reacted"  # a joiner is no white space
    missing = await reply(a, {"type": "react", "room": "lobby", "seq": 7, "emoji": "x", "active": True})
    assert missing["code"] == "not_found"
    assert (await reply(a, {"type": "react", "room": "lobby", "emoji": "x", "active": True}))["code"] == "bad_frame"


async def test_at_most_twenty_different_emoji(user, other_user, login, sockets):
    a = await sockets(await login(user))
    await reply(a, {"type": "join", "room": "lobby"})
    await send(a, "popular", "c1")
    for k in range(20):
        answer = await reply(a, {"type": "react", "room": "lobby", "seq": 1, "emoji": f"e{k}", "active": True})
        assert answer["type"] == "reacted"
    too_many = await reply(a, {"type": "react", "room": "lobby", "seq": 1, "emoji": "e20", "active": True, "ref": "t"})
    assert (too_many["code"], too_many["ref"]) == ("too_many_reactions", "t")
    b = await sockets(await login(other_user))
    await reply(b, {"type": "join", "room": "lobby"})
    joining_one = await reply(b, {"type": "react", "room": "lobby", "seq": 1, "emoji": "e3", "active": True})
    assert joining_one["type"] == "reacted"  # a user more on an emoji there is fine
    assert len(joining_one["message"]["reactions"]) == 20


async def test_replies_quote_a_frozen_excerpt(user, other_user, login, sockets):
    a, b = await joined_pair(login, sockets, user, other_user)
    original = await send(a, "o" * 150, "c1")
    await b.recv()
    answer = await send(b, "answer", "c2", reply_to=1)
    assert answer["reply_to"] == {"seq": 1, "author": user_dict(user), "excerpt": "o" * 100}
    assert original["reply_to"] is None
    await reply(a, {"type": "edit", "room": "lobby", "seq": 1, "body": "changed"})
    after = await reply(b, {"type": "history", "room": "lobby", "after": 0})
    assert after["messages"][1]["reply_to"]["excerpt"] == "o" * 100  # frozen

    for seq in (3, 99):
        missing = await reply(b, {"type": "send", "room": "lobby", "body": "x", "client_id": f"m{seq}",
                                   "reply_to": seq, "ref": "m"})
        assert (missing["code"], missing["ref"]) == ("not_found", "m")
    await reply(a, {"type": "delete", "room": "lobby", "seq": 1})
    to_deleted = await reply(b, {"type": "send", "room": "lobby", "body": "x", "client_id": "c3", "reply_to": 1})
    assert to_deleted["code"] == "not_found"
    # A resend of the reply stored before is answered with it, whatever became of its target.
    resent = await reply(b, {"type": "send", "room": "lobby", "body": "answer", "client_id": "c2", "reply_to": 1})
    assert resent["type"] == "sent" and resent["message"]["id"] == answer["id"]
    assert (await reply(b, {"type": "send", "room": "lobby", "body": "x", "client_id": "c9", "reply_to": 0}))[
        "code"
    ] == "bad_frame"


async def test_changes_join_since_rev_and_history_after(user, other_user, login, sockets):
    a = await sockets(await login(user))
    await reply(a, {"type": "join", "room": "lobby"})
    for k in range(1, 6):
        await send(a, f"m{k}", f"c{k}")
    await reply(a, {"type": "edit", "room": "lobby", "seq": 2, "body": "m2 again"})  # rev 6
    await reply(a, {"type": "react", "room": "lobby", "seq": 4, "emoji": "x", "active": True})  # rev 7

    changes = await reply(a, {"type": "changes", "room": "lobby", "since_rev": 3, "ref": "c"})
    assert (changes["type"], changes["ref"], changes["room"], changes["has_more"], changes["rev"]) == (
        "changes", "c", "lobby", False, 7,
    )
    assert [(m["seq"], m["rev"]) for m in changes["messages"]] == [(5, 5), (2, 6), (4, 7)]
    none = await reply(a, {"type": "changes", "room": "lobby", "since_rev": 7})
    assert (none["messages"], none["has_more"], none["rev"]) == ([], False, 7)
    assert (await reply(a, {"type": "changes", "room": "elsewhere", "since_rev": 0}))["code"] == "not_joined"
    assert (await reply(a, {"type": "changes", "room": "lobby", "since_rev": -1}))["code"] == "bad_frame"

    b = await sockets(await login(other_user))
    joined = await reply(b, {"type": "join", "room": "lobby", "since_rev": 4, "since": 0})
    assert joined["rev"] == 7 and joined["has_more"] is False
    assert [m["seq"] for m in joined["messages"]] == [5, 2, 4]  # what `changes` answers; `since` ignored
    plain = await reply(b, {"type": "join", "room": "lobby"})
    assert plain["rev"] == 7 and [m["rev"] for m in plain["messages"]] == [1, 6, 3, 7, 5]

    after = await reply(b, {"type": "history", "room": "lobby", "after": 1, "limit": 3, "ref": "h"})
    assert (after["type"], after["ref"], after["has_more"]) == ("history", "h", True)
    assert [m["seq"] for m in after["messages"]] == [2, 3, 4]
    end = await reply(b, {"type": "history", "room": "lobby", "after": 4})
    assert [m["seq"] for m in end["messages"]] == [5] and end["has_more"] is False
    for bad in ({"before": 3, "after": 1}, {}):
        assert (await reply(b, {"type": "history", "room": "lobby", **bad}))["code"] == "bad_frame"


async def test_mentions_count_unread_for_readers_only(user, other_user, carol, login, sockets):
    a = await sockets(await login(user))
    await reply(a, {"type": "create", "room": "hush", "kind": "private"})
    await reply(a, {"type": "invite", "room": "hush", "user": "bob"})
    sent = await send(a, "hi @BOB and @carol and @alice, cc @bob.", "c1", room="hush")
    assert sent["mentions"] == sorted([user.pk, other_user.pk])  # carol may not read the room
    await send(a, "again @bob", "c2", room="hush")
    await send(a, "no one", "c3", room="hush")

    b = await sockets(await login(other_user))
    rooms = await reply(b, {"type": "rooms"})
    hush = next(r for r in rooms["rooms"] if r["name"] == "hush")
    assert (hush["mentions"], hush["unread"], hush["rev"]) == (2, 3, 3)
    await reply(b, {"type": "join", "room": "hush"})
    await b.send({"type": "read", "room": "hush", "seq": 1})
    rooms = await reply(b, {"type": "rooms"})
    assert next(r for r in rooms["rooms"] if r["name"] == "hush")["mentions"] == 1
    mine = await reply(a, {"type": "rooms"})
    assert next(r for r in mine["rooms"] if r["name"] == "hush")["mentions"] == 0  # her own are read


async def test_edits_and_reactions_spend_frame_tokens_not_the_send_rate(user, login, sockets, settings):
    settings.CHAT_SEND_RATE = "1/60s"
    settings.CHAT_FRAME_BURST = 12
    settings.CHAT_FRAME_RATE = 0.001
    a = await sockets(await login(user))
    await reply(a, {"type": "join", "room": "lobby"})
    await send(a, "only one", "c1")
    assert (await reply(a, {"type": "send", "room": "lobby", "body": "two", "client_id": "c2"}))["code"] == (
        "rate_limited"
    )
    for k in range(12):
        frame = (
            {"type": "edit", "room": "lobby", "seq": 1, "body": f"edit {k}"} if k % 2
            else {"type": "react", "room": "lobby", "seq": 1, "emoji": f"e{k}", "active": True}
        )
        await a.send({**frame, "ref": f"r{k}"})
    answers = [frame.get("code") or frame["type"] for frame in await drain(a) if frame.get("ref")]
    # 3 tokens went on join and two sends: 9 changes pass, the rest are refused.
    assert answers.count("rate_limited") == 3 and len(answers) == 12
    assert set(answers) == {"edited", "reacted", "rate_limited"}
