"""Notifications end to end: real Daphne processes with Web Push configured
(VAPID keys in their environment), a push service of the test's own on
loopback, and subscriptions made with keys the test generates as a browser
would (an ECDH P-256 pair and 16 random auth bytes). What a push service
receives is decrypted here (aes128gcm, http_ece) and read.

Both topologies: one process on SQLite, and two on PostgreSQL and Redis, where
presence on the other process must keep a push back too. The frames
(push_subscribe, push_unsubscribe, notify, notify_settings) are checked on
both databases here as well.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat.notifications import vapid

from .harness import GENEROUS_LIMITS, Topology, running, unique_room

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

PRIVATE_KEY, PUBLIC_KEY = vapid.generate()
PUSH_ENV = {
    **GENEROUS_LIMITS,
    "VAPID_PRIVATE_KEY": PRIVATE_KEY,
    "VAPID_PUBLIC_KEY": PUBLIC_KEY,
    "VAPID_SUBJECT": "mailto:push-test@localhost",
    # The test's push service is plain http on 127.0.0.1.
    "CHAT_PUSH_ALLOW_HTTP": "1",
}
# How long a push that should not come is waited for, after one that should
# (sent later) has come.
SETTLE = 1.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---- a push service of our own ------------------------------------------------------


class PushService:
    """Records every POST (header names in lower case); answers 201, or what `answers` says for a path."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: dict[str, int] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                service.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(service.answers.get(self.path, 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    async def next_to(self, path: str, timeout: float = 10.0) -> dict:
        """The first push to path not taken yet."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for i, push in enumerate(self.received):
                if push["path"] == path:
                    return self.received.pop(i)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no push to {path} within {timeout}s; got {[p['path'] for p in self.received]}")

    def to(self, path: str) -> list[dict]:
        return [push for push in self.received if push["path"] == path]


class Browser:
    """One browser's push subscription: its own keys, and an endpoint at our push service."""

    def __init__(self, service: PushService):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = secrets.token_bytes(16)
        self.path = f"/push/{secrets.token_hex(8)}"
        self.endpoint = service.url(self.path)
        self.service = service

    def subscribe_frame(self) -> dict:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"type": "push_subscribe", "endpoint": self.endpoint,
                "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def read(self, push: dict) -> dict:
        """Decrypts a push as the browser would, and reads its JSON."""
        assert push["headers"]["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(push["body"], private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)

    async def next_payload(self) -> tuple[dict, dict]:
        push = await self.service.next_to(self.path)
        return self.read(push), push["headers"]


@pytest.fixture(scope="module")
def push_service():
    service = PushService()
    service.thread.start()
    yield service
    service.server.shutdown()


@pytest.fixture(scope="module", params=["embedded", "scaleout"])
def topology(request, shared_redis):
    if request.param == "embedded":
        topology = Topology(kind="push-embedded", extra_env=PUSH_ENV)
    else:
        topology = Topology(kind="push-scaleout", processes=2, redis=shared_redis, redis_db=5, postgres=True,
                            extra_env=PUSH_ENV)
    with running(topology):
        yield topology


@pytest.fixture
async def topo(topology):
    offsets = topology.log_offsets()
    yield topology
    await topology.close_sockets()
    topology.check_logs(offsets)


async def subscribed(user, service: PushService, server: int | None = None):
    """A socket of the user's and a browser subscription made through it."""
    sock = await user.ws(server)
    browser = Browser(service)
    await sock.ok(browser.subscribe_frame(), "push_subscribed")
    return sock, browser


async def answer(sock, frame: dict) -> dict:
    """The reply to frame, sent with its own ref (request() would give it another)."""
    await sock.send(frame)
    return await sock.expect(lambda f: f.get("ref") == frame["ref"])


def subscription_rows(topology: Topology, endpoint: str) -> int:
    """Rows the server holds for that endpoint, read from its database."""
    sql = "SELECT count(*) FROM chat_pushsubscription WHERE endpoint = "
    if topology.database is not None:
        with psycopg.connect(topology.database.url) as connection:
            return connection.execute(sql + "%s", [endpoint]).fetchone()[0]
    with sqlite3.connect(os.path.join(topology.var_dir, "db.sqlite3")) as connection:
        return connection.execute(sql + "?", [endpoint]).fetchone()[0]


# ---- the page and the frames -------------------------------------------------------------


async def test_the_page_carries_the_vapid_public_key(topo):
    async with httpx.AsyncClient(base_url=topo.server(0).url, timeout=30) as http:
        page = await http.get("/")
    assert page.status_code == 200
    assert f'<meta name="vapid-public-key" content="{PUBLIC_KEY}">' in page.text


async def test_the_frames_answer_and_refuse_as_the_contract_says(topo, push_service):
    alice, bob = await topo.new_user(), await topo.new_user(home=1)
    a = await alice.ws()
    a_other = await alice.ws(server=1)
    browser = Browser(push_service)
    subscribed_reply = await answer(a, {**browser.subscribe_frame(), "ref": "s1"})
    assert subscribed_reply == {"type": "push_subscribed", "ref": "s1"}
    assert subscription_rows(topo, browser.endpoint) == 1

    frame = browser.subscribe_frame()
    for bad in (
        {**frame, "endpoint": "ftp://127.0.0.1/x"},
        {**frame, "endpoint": "not a url"},
        {**frame, "keys": {"p256dh": frame["keys"]["p256dh"][:-4], "auth": frame["keys"]["auth"]}},
        {**frame, "keys": {"p256dh": frame["keys"]["p256dh"], "auth": "not base64url!"}},
        {**frame, "keys": {"p256dh": frame["keys"]["p256dh"]}},
        {key: value for key, value in frame.items() if key != "keys"},
    ):
        reply = await a.request(bad)
        assert (reply["type"], reply["code"]) == ("error", "bad_frame"), (bad, reply)

    room = unique_room("levels")
    await a.join(room)
    settings = await a.ok({"type": "notify_settings"}, "notify_settings")
    assert settings["rooms"][room] == "mentions"
    set_reply = await answer(a, {"type": "notify", "room": room, "level": "all", "ref": "n1"})
    assert set_reply == {"type": "notify", "ref": "n1", "room": room, "level": "all"}
    assert await a_other.expect({"type": "notify"}) == {"type": "notify", "room": room, "level": "all"}
    await a.absent({"type": "notify"}, 0.3)  # the answer only, not the unasked frame as well
    assert (await a_other.ok({"type": "notify_settings"}, "notify_settings"))["rooms"][room] == "all"

    bad_level = await a.request({"type": "notify", "room": room, "level": "loud"})
    assert bad_level["code"] == "bad_frame"
    b = await bob.ws()
    hidden = unique_room("hidden")
    await b.ok({"type": "create", "room": hidden, "kind": "private"}, "joined")
    for name in (hidden, unique_room("nowhere")):
        assert (await a.request({"type": "notify", "room": name, "level": "all"}))["code"] == "forbidden"

    gone = await answer(a, {"type": "push_unsubscribe", "endpoint": browser.endpoint, "ref": "u1"})
    assert gone == {"type": "push_unsubscribed", "ref": "u1"}
    assert subscription_rows(topo, browser.endpoint) == 0


# ---- pushes -------------------------------------------------------------------------


async def test_a_mention_is_pushed_to_a_user_who_is_not_in_the_room(topo, push_service):
    alice, bob = await topo.new_user(), await topo.new_user(home=1)
    _, browser = await subscribed(bob, push_service)
    a = await alice.ws()
    room = unique_room("mention")
    await a.join(room)
    body = f"look @{bob.username} " + "é" * 300
    said = await a.say(room, body)
    payload, headers = await browser.next_payload()
    assert payload == {"room": room, "seq": said["seq"], "author": alice.wire, "body": body[:200], "kind": "public"}
    # Signed with the server's VAPID key, for a day, and urgent: it is addressed to bob.
    assert headers["authorization"].startswith("vapid t=") and f"k={PUBLIC_KEY}" in headers["authorization"]
    assert (headers["ttl"], headers["urgency"]) == ("86400", "high")


async def test_no_push_when_present_in_the_room_on_any_process_or_for_level_nothing(topo, push_service):
    alice, bob = await topo.new_user(), await topo.new_user(home=1)
    b, browser = await subscribed(bob, push_service)
    a = await alice.ws()
    here, muted, elsewhere = unique_room("here"), unique_room("muted"), unique_room("elsewhere")
    for room in (here, muted, elsewhere):
        await a.join(room)
    await b.join(here)  # on the other process in the scale-out topology
    await b.ok({"type": "notify", "room": muted, "level": "nothing"}, "notify")  # not even a member
    present = await a.say(here, f"@{bob.username} you are here")
    silenced = await a.say(muted, f"@{bob.username} you muted this")
    # A push that must come, sent after the two that must not.
    await a.say(elsewhere, f"@{bob.username} but not here")
    payload, _ = await browser.next_payload()
    assert payload["room"] == elsewhere
    await asyncio.sleep(SETTLE)
    assert [browser.read(push)["seq"] for push in push_service.to(browser.path)] == []
    assert present["mentions"] == [bob.id] and silenced["mentions"] == [bob.id]

    # Bob leaves the room: now he is pushed there.
    await b.ok({"type": "leave", "room": here}, "left")
    again = await a.say(here, f"@{bob.username} now you are away")
    payload, _ = await browser.next_payload()
    assert (payload["room"], payload["seq"]) == (here, again["seq"])


async def test_a_dm_is_pushed_by_default_and_level_all_pushes_every_message(topo, push_service):
    alice, bob = await topo.new_user(), await topo.new_user(home=1)
    b, browser = await subscribed(bob, push_service)
    a = await alice.ws()
    joined = await a.ok({"type": "dm", "users": [bob.username]}, "joined")
    dm = joined["room"]
    said = await a.say(dm, "no mention, yet pushed")
    payload, headers = await browser.next_payload()
    assert payload == {"room": dm, "seq": said["seq"], "author": alice.wire, "body": "no mention, yet pushed",
                       "kind": "dm"}
    assert headers["urgency"] == "high"

    # In a public room bob wants everything once he is a member and says "all".
    room = unique_room("all")
    await a.join(room)
    await b.join(room)
    await b.ok({"type": "notify", "room": room, "level": "all"}, "notify")
    await b.ok({"type": "leave", "room": room}, "left")  # this socket only: still a member
    plain = await a.say(room, "nobody is mentioned")
    payload, headers = await browser.next_payload()
    assert (payload["room"], payload["seq"], payload["kind"]) == (room, plain["seq"], "public")
    assert headers["urgency"] == "normal"

    # Bob's own messages are never pushed to him.
    b_other = await bob.ws(server=0)
    await b_other.join(dm)
    await b_other.say(dm, f"@{bob.username} talking to myself")
    await b_other.ok({"type": "leave", "room": dm}, "left")
    marker = await a.say(dm, "the marker")
    payload, _ = await browser.next_payload()
    assert payload["seq"] == marker["seq"]


async def test_a_subscription_the_push_service_calls_gone_is_forgotten(topo, push_service):
    alice, bob = await topo.new_user(), await topo.new_user(home=1)
    _, browser = await subscribed(bob, push_service)
    _, kept = await subscribed(bob, push_service, server=0)
    push_service.answers[browser.path] = 410
    a = await alice.ws()
    room = unique_room("gone")
    await a.join(room)
    await a.say(room, f"@{bob.username} one")
    await browser.next_payload()  # answered 410
    await kept.next_payload()
    deadline = time.monotonic() + 10
    while subscription_rows(topo, browser.endpoint) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert subscription_rows(topo, browser.endpoint) == 0
    assert subscription_rows(topo, kept.endpoint) == 1

    await a.say(room, f"@{bob.username} two")
    await kept.next_payload()
    await asyncio.sleep(SETTLE)
    assert push_service.to(browser.path) == []


async def test_an_endpoint_subscribed_by_another_user_moves_to_them(topo, push_service):
    alice, bob, carol = await topo.new_user(), await topo.new_user(home=1), await topo.new_user()
    b, browser = await subscribed(bob, push_service)
    c = await carol.ws()
    await c.ok(browser.subscribe_frame(), "push_subscribed")  # carol logged in on bob's browser
    assert subscription_rows(topo, browser.endpoint) == 1
    a = await alice.ws()
    room = unique_room("moved")
    await a.join(room)
    await a.say(room, f"@{bob.username} not for this browser any more")
    to_carol = await a.say(room, f"@{carol.username} for this one")
    payload, _ = await browser.next_payload()
    assert payload["seq"] == to_carol["seq"]
    await asyncio.sleep(SETTLE)
    assert push_service.to(browser.path) == []
