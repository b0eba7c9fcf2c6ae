"""Version 2's notification frames through the socket (consumer, hub, in-memory
layer, the SQLite test database): push_subscribe and push_unsubscribe with
their validation, notify and its unasked copy on the user's other sockets,
notify_settings with the defaults, and levels forgotten with the room.
test_e2e_push.py runs them on PostgreSQL too, and the pushes themselves."""

import base64
import secrets

import pytest
from channels.db import database_sync_to_async
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat.hub import close_hub
from chat.models import NotifyLevel, PushSubscription
from chat.notifications.services import MAX_SUBSCRIPTIONS_PER_USER
from chat.tests.test_consumer import login, sockets, user_dict  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


@pytest.fixture(autouse=True)
async def fresh_hub():
    yield
    await close_hub()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keys() -> dict:
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))}


def subscribe(endpoint: str, **extra) -> dict:
    return {"type": "push_subscribe", "endpoint": endpoint, "keys": keys(), **extra}


async def answer(socket, frame: dict) -> dict:
    """The reply to frame (given a ref here), past any unasked frame before it."""
    frame = {**frame, "ref": frame.get("ref", "answer")}
    await socket.send(frame)
    for _ in range(10):
        reply = await socket.recv()
        if reply.get("ref") == frame["ref"]:
            return reply
    raise AssertionError(f"no answer to {frame}")


@database_sync_to_async
def subscriptions() -> list[tuple[int, str]]:
    return sorted(PushSubscription.objects.values_list("user_id", "endpoint"))


@database_sync_to_async
def levels() -> list[tuple[int, str, str]]:
    return sorted(NotifyLevel.objects.values_list("user_id", "room__name", "level"))


# ---- push_subscribe, push_unsubscribe ------------------------------------------------


async def test_a_subscription_is_kept_for_the_user_and_moves_with_its_endpoint(user, other_user, login, sockets):
    a = await sockets(await login(user))
    b = await sockets(await login(other_user))
    endpoint = "https://push.example.net/send/abc"
    assert await answer(a, subscribe(endpoint, ref="s")) == {"type": "push_subscribed", "ref": "s"}
    assert await subscriptions() == [(user.pk, endpoint)]
    assert await a.request(subscribe(endpoint)) == {"type": "push_subscribed"}  # again, no ref: still one
    assert await subscriptions() == [(user.pk, endpoint)]

    # Bob logs in on that browser and subscribes it: it is his now.
    assert (await b.request(subscribe(endpoint)))["type"] == "push_subscribed"
    assert await subscriptions() == [(other_user.pk, endpoint)]
    # Alice cannot unsubscribe what is no longer hers; bob can.
    assert await a.request({"type": "push_unsubscribe", "endpoint": endpoint, "ref": "u"}) == {
        "type": "push_unsubscribed", "ref": "u"}
    assert await subscriptions() == [(other_user.pk, endpoint)]
    assert (await b.request({"type": "push_unsubscribe", "endpoint": endpoint}))["type"] == "push_unsubscribed"
    assert await subscriptions() == []


async def test_a_user_keeps_their_newest_subscriptions_only(user, login, sockets):
    a = await sockets(await login(user))
    for n in range(MAX_SUBSCRIPTIONS_PER_USER + 2):
        assert (await a.request(subscribe(f"https://push.example.net/{n}")))["type"] == "push_subscribed"
    kept = [endpoint for _, endpoint in await subscriptions()]
    assert len(kept) == MAX_SUBSCRIPTIONS_PER_USER
    assert "https://push.example.net/0" not in kept and "https://push.example.net/1" not in kept


@pytest.mark.parametrize("endpoint", [
    "http://push.example.net/x",  # plain http: only to loopback, and only where allowed
    "http://127.0.0.1:9/x",
    "ftp://push.example.net/x",
    "https://",
    "https://user:pw@push.example.net/x",
    "https://push.example.net/a b",
    "https://push.example.net:99999/x",
    "push.example.net/x",
    "",
    "https://push.example.net/" + "x" * 2048,
    42,
    None,
])
async def test_push_subscribe_takes_https_endpoints_only(user, login, sockets, endpoint):
    a = await sockets(await login(user))
    reply = await a.request({**subscribe("x", ref="e"), "endpoint": endpoint})
    assert (reply["type"], reply["code"], reply["ref"]) == ("error", "bad_frame", "e")
    assert await subscriptions() == []


async def test_plain_http_to_loopback_where_allowed(user, login, sockets, settings):
    a = await sockets(await login(user))
    settings.CHAT_PUSH_ALLOW_HTTP = True
    for endpoint in ("http://127.0.0.1:9/x", "http://localhost:9/x", "http://[::1]:9/x"):
        assert (await a.request(subscribe(endpoint)))["type"] == "push_subscribed"
    assert (await a.request(subscribe("http://push.example.net/x")))["code"] == "bad_frame"
    settings.CHAT_PUSH_ALLOW_HTTP = False
    settings.DEBUG = True
    assert (await a.request(subscribe("http://127.0.0.2/x")))["type"] == "push_subscribed"
    assert len(await subscriptions()) == 4


@pytest.mark.parametrize("bad_keys", [
    None,
    "keys",
    {},
    {"p256dh": b64url(b"\x04" + b"\x01" * 63), "auth": b64url(b"a" * 16)},  # 64 bytes
    {"p256dh": b64url(b"\x04" + b"\x01" * 65), "auth": b64url(b"a" * 16)},  # 66 bytes
    {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(b"a" * 15)},
    {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(b"a" * 17)},
    {"p256dh": b64url(b"\x04" + b"\x01" * 64)},
    {"p256dh": base64.b64encode(b"\xfb" * 65).decode(), "auth": b64url(b"a" * 16)},  # + and /: not base64url
    {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": "not base64!"},
    {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": 16},
])
async def test_push_subscribe_refuses_keys_of_the_wrong_size_or_alphabet(user, login, sockets, bad_keys):
    a = await sockets(await login(user))
    reply = await a.request({**subscribe("https://push.example.net/k", ref="k"), "keys": bad_keys})
    assert (reply["type"], reply["code"], reply["ref"]) == ("error", "bad_frame", "k")
    assert await subscriptions() == []


async def test_padded_keys_are_taken_and_kept_unpadded(user, login, sockets):
    a = await sockets(await login(user))
    frame = subscribe("https://push.example.net/p")
    padded = {name: value + "=" * (-len(value) % 4) for name, value in frame["keys"].items()}
    assert (await a.request({**frame, "keys": padded}))["type"] == "push_subscribed"
    row = await database_sync_to_async(PushSubscription.objects.values("p256dh", "auth").get)()
    assert row == frame["keys"]


# ---- notify, notify_settings -------------------------------------------------------


async def test_notify_answers_and_tells_the_users_other_sockets(user, other_user, login, sockets):
    a = await sockets(await login(user))
    a_other_tab = await sockets(await login(user))
    b = await sockets(await login(other_user))
    await a.join("lobby")
    reply = await a.request({"type": "notify", "room": "lobby", "level": "nothing", "ref": "n"})
    assert reply == {"type": "notify", "ref": "n", "room": "lobby", "level": "nothing"}
    assert await a_other_tab.recv() == {"type": "notify", "room": "lobby", "level": "nothing"}
    assert await a.quiet() and await b.quiet()
    assert await levels() == [(user.pk, "lobby", "nothing")]
    assert (await a_other_tab.request({"type": "notify_settings"}))["rooms"] == {"lobby": "nothing"}


async def test_notify_refuses_a_bad_level_and_rooms_the_user_may_not_read(user, other_user, login, sockets):
    a = await sockets(await login(user))
    b = await sockets(await login(other_user))
    await answer(b, {"type": "create", "room": "hush", "kind": "private"})
    for level in ("loud", "ALL", None, 1, ["all"]):
        reply = await a.request({"type": "notify", "room": "lobby", "level": level, "ref": "l"})
        assert (reply["code"], reply["ref"]) == ("bad_frame", "l")
    assert (await a.request({"type": "notify", "room": "Not A Room", "level": "all"}))["code"] == "invalid_room"
    for room in ("hush", "nowhere", f"dm-{user.pk}-{other_user.pk}"):
        reply = await a.request({"type": "notify", "room": room, "level": "all", "ref": "f"})
        assert (reply["type"], reply["code"], reply["ref"]) == ("error", "forbidden", "f")
    assert await levels() == []


async def test_notify_settings_lists_member_rooms_with_their_defaults(user, other_user, login, sockets):
    a = await sockets(await login(user))
    b = await sockets(await login(other_user))
    await a.join("lobby")
    dm = (await answer(a, {"type": "dm", "users": ["bob"]}))["room"]
    await answer(b, {"type": "create", "room": "hush", "kind": "private"})  # not alice's
    await answer(b, {"type": "join", "room": "elsewhere"})  # public, alice is no member
    assert await answer(a, {"type": "notify_settings", "ref": "q"}) == {
        "type": "notify_settings", "ref": "q", "rooms": {"lobby": "mentions", dm: "all"}}

    # A public room's level may be set before joining; it counts from the join.
    assert (await answer(a, {"type": "notify", "room": "elsewhere", "level": "all"}))["type"] == "notify"
    assert "elsewhere" not in (await answer(a, {"type": "notify_settings"}))["rooms"]
    await answer(a, {"type": "join", "room": "elsewhere"})
    await answer(a, {"type": "notify", "room": dm, "level": "mentions"})
    assert (await answer(a, {"type": "notify_settings"}))["rooms"] == {
        "lobby": "mentions", dm: "mentions", "elsewhere": "all"}


async def test_a_user_who_loses_a_room_loses_its_level(user, other_user, login, sockets):
    a = await sockets(await login(user))
    b = await sockets(await login(other_user))
    await answer(a, {"type": "create", "room": "hush", "kind": "private"})
    await answer(a, {"type": "invite", "room": "hush", "user": "bob"})
    await answer(b, {"type": "join", "room": "lobby"})
    for room in ("hush", "lobby"):
        assert (await answer(b, {"type": "notify", "room": room, "level": "all"}))["type"] == "notify"
    assert await levels() == [(other_user.pk, "hush", "all"), (other_user.pk, "lobby", "all")]

    assert (await answer(a, {"type": "remove", "room": "hush", "user": "bob"}))["type"] == "removed"
    assert await levels() == [(other_user.pk, "lobby", "all")]
    assert (await answer(b, {"type": "leave", "room": "lobby", "forget": True}))["type"] == "left"
    assert await levels() == []
    # Invited again, bob starts from the default.
    await answer(a, {"type": "invite", "room": "hush", "user": "bob"})
    assert (await answer(b, {"type": "notify_settings"}))["rooms"] == {"hush": "mentions"}
